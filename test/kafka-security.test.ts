// The bus's Kafka is closed to anyone without credentials, and each service's principal can do
// only what its ACLs allow (services/platform/kafka-acls.ts) — on the real broker with-kafka
// started (TLS + SCRAM + StandardAuthorizer). Positive controls make sure a refusal is the ACL
// speaking, not a broken connection.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, ensureTopics } from '../services/platform/kafka-transport.js';
import { topicsFor } from '../services/platform/topics.js';
import { replyTopicName } from '../services/platform/reply-topic.js';
import type { KafkaPrincipal } from '../services/platform/kafka-security.js';
import { uniquePrefix } from './helpers/test-bus.js';
import { grantTestAcls, testKafka, testKafkaSettings } from './helpers/test-kafka.js';

const settings = testKafkaSettings();
if (settings.kafkaPlaintext) {
  // The security checks need the secured broker: on a plaintext one they fail rather than pass unchecked.
  t.fail('plaintext broker (LGSP_KAFKA_PLAINTEXT=1): the TLS, SCRAM and ACL checks cannot run');
} else {
  t.test('Kafka security on the real broker', async (t) => {
    const prefix = uniquePrefix('kafka-security');
    const topics = topicsFor(prefix);
    await grantTestAcls(prefix);
    const admin = testKafka('security-admin').admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    const all = [topics.message('notice'), topics.retry('relay'), topics.deadLetter('relay'), topics.events, replyTopicName(topics), topics.inbox];
    // The project's ensureTopics, which waits until the topics show in the metadata: a bare
    // createTopics({ waitForLeaders }) threw UNKNOWN_TOPIC_OR_PARTITION here once in CI.
    await ensureTopics(admin, all, 1, 1);

    const quick = (config: Partial<ConstructorParameters<typeof Kafka>[0]>) =>
      new Kafka({ clientId: 'security-test', brokers: settings.kafkaBrokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 }, ...config });

    /** Produces one record as `principal`: 'ok', 'denied' by the ACLs, or the unexpected error. */
    const produceAs = async (principal: KafkaPrincipal, topic: string): Promise<string> => {
      const producer = createKafka(`security-${principal}`, settings, principal).producer({ retry: { retries: 0 } });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ value: `written by ${principal}` }] });
        return 'ok';
      } catch (err) {
        // Refused either at the produce (TOPIC_AUTHORIZATION_FAILED) or already when the client
        // asks for the topic's metadata (no Describe either): both are the ACL.
        const text = `${(err as { type?: string }).type ?? ''} ${(err as Error).message}`;
        return /AUTHORIZATION_FAILED|Not authorized/.test(text) ? 'denied' : text;
      } finally {
        await producer.disconnect();
      }
    };

    await t.test('without credentials nobody gets in', async (t) => {
      const refused = async (what: string, kafka: Kafka) => {
        const a = kafka.admin();
        await t.rejects(a.connect().then(() => a.listTopics()), what);
        await a.disconnect().catch(() => undefined);
      };
      await refused('plaintext, no credentials', quick({}));
      await refused('TLS without SASL', quick({ ssl: { ca: [await readCa()] } }));
      const gateway = JSON.parse(await readCredentials('gateway')) as { username: string };
      await refused('a known user with a wrong password', quick({ ssl: { ca: [await readCa()] }, sasl: { mechanism: 'scram-sha-512', username: gateway.username, password: 'not-the-password' } }));
      await refused('the admin password but a broker certificate nobody trusts', quick({ ssl: { ca: [] , rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'lgsp-admin', password: 'x' } }));
    });

    await t.test('only the gateway writes the message topics', async (t) => {
      t.equal(await produceAs('gateway', topics.message('notice')), 'ok', 'the gateway may');
      t.equal(await produceAs('console', topics.message('notice')), 'denied', 'the console may not');
      t.equal(await produceAs('runner', topics.message('notice')), 'denied', 'the runner may not');
      t.equal(await produceAs('audit', topics.message('notice')), 'denied', 'the audit may not');
    });

    await t.test('the console replays through the retry topic and writes nothing else of the runner', async (t) => {
      t.equal(await produceAs('console', topics.retry('relay')), 'ok', 'the audited replay path');
      t.equal(await produceAs('console', topics.deadLetter('relay')), 'denied', 'no forged dead letters');
      t.equal(await produceAs('console', replyTopicName(topics)), 'denied', 'no forged replies');
    });

    await t.test('the runner writes what the runner writes, and nothing the gateway writes', async (t) => {
      t.equal(await produceAs('runner', topics.deadLetter('relay')), 'ok');
      t.equal(await produceAs('runner', replyTopicName(topics)), 'ok');
      t.equal(await produceAs('gateway', topics.deadLetter('relay')), 'denied', 'the gateway does not dead-letter');
      t.equal(await produceAs('gateway', replyTopicName(topics)), 'denied', 'the gateway does not answer requests');
    });

    await t.test('lgsp.events: the platform services write it, its readers do not', async (t) => {
      t.equal(await produceAs('runner', topics.events), 'ok');
      t.equal(await produceAs('audit', topics.events), 'denied');
      t.equal(await produceAs('ledger', topics.events), 'denied');
    });

    await t.test('the ACLs hold on the bus prefix only', async (t) => {
      const other = topicsFor(uniquePrefix('other-bus'));
      await ensureTopics(admin, [other.message('notice')], 1, 1);
      t.equal(await produceAs('gateway', other.message('notice')), 'denied', 'a bus whose ACLs were never granted');
    });

    await t.test('the console cannot read the message topics', async (t) => {
      const consumer = createKafka('security-console-reader', settings, 'console').consumer({ groupId: `${prefix}lgsp-console-probe`, retry: { retries: 0 } });
      await consumer.connect();
      t.teardown(() => consumer.disconnect());
      const crashed = new Promise<string>((resolve) =>
        consumer.on(consumer.events.CRASH, (e) => {
          const err = e.payload.error as Error & { type?: string; originalError?: { type?: string } };
          resolve(`${err.type ?? ''} ${err.originalError?.type ?? ''} ${err.message}`);
        }),
      );
      await consumer.subscribe({ topic: topics.message('notice'), fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      t.match(await crashed, /TOPIC_AUTHORIZATION_FAILED|Not authorized to access topics/);
    });
  });
}

async function readCa(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(settings.kafkaSslCaFile, 'utf8');
}

async function readCredentials(principal: KafkaPrincipal): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  return readFile(join(settings.kafkaCredentialsDir, `${principal}.json`), 'utf8');
}
