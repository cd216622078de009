// GET /v1/audit/integrity (the console's integrity box) checks the chain against the checkpoints
// published on Kafka, as `lgsp audit verify` does. An insider who cuts the tail of the chain
// together with the stored checkpoints that cover it, or a database restored from an older dump,
// leaves a chain that is whole on its own: only the copies on Kafka show it. The integrity API
// answered `ok: true` there while the CLI said TAMPERED, and the README says the console reports
// such a cut.
import pg from 'pg';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import { loadConfig } from '../services/platform/config.js';
import { BatchingProducer } from '../services/platform/kafka-transport.js';
import { eventRecords, messageEvent } from '../services/platform/bus-events.js';
import { topicsFor } from '../services/platform/topics.js';
import { issueAccessToken } from '../services/platform/access-token.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { createTestDatabase } from './helpers/test-database.js';
import { grantTestAcls, testKafka, testKafkaSettings } from './helpers/test-kafka.js';
import { createTestKeys } from './helpers/test-keys.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

async function eventually<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Integrity {
  head: { seq: number } | null;
  verification: { ok: boolean; entries: number; published?: { checked: number; ignored: number }; publishedUnreadable?: string; firstBad?: { seq: number; reason: string } };
}

t.test('the integrity API reads the checkpoints published on Kafka', async (t) => {
  const dataDir = t.testdir();
  const keys = await createTestKeys(dataDir);
  const database = await createTestDatabase('audit-integrity-published');
  t.teardown(() => database.drop());
  const config = loadConfig(
    {
      ...testKafkaSettings(),
      dataDir,
      keysDir: keys.keysDir,
      jwksFile: keys.jwksFile,
      databaseUrl: database.url,
      topicPrefix: `t${Date.now()}-${process.pid}-`,
      topicPartitions: 1,
      issuer: 'http://127.0.0.1:8080',
      logLevel: 'silent',
      checkpointIntervalMs: 200,
    },
    {},
  );
  const topics = topicsFor(config.topicPrefix);
  await grantTestAcls(config.topicPrefix);
  const audit = await startAuditService(config);
  t.teardown(() => audit.stop());

  const runnerKey = await keys.signing('runner', 'record');
  const producer = new BatchingProducer(testKafka('audit-integrity-published'), () => runnerKey, { lingerMs: 2, maxBatch: 100, ttlSeconds: 300 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const send = (n: number) =>
    producer.send(
      Array.from({ length: n }, () => {
        const envelope = { id: uuidv7(), type: 'notice.send', from: { member: '000.00.14.H49', system: 'qlvb' }, to: { member: '000.00.15.H49', service: 'notices' }, correlationId: uuidv7(), payloadDigest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' };
        return eventRecords(topics, messageEvent('delivered', envelope, 'runner/relay', { connector: 'relay', attempt: 1 }));
      }).flat(),
    );

  const tokenKey = await keys.signing('gateway', 'token');
  const operator = await issueAccessToken(tokenKey, config.issuer, { clientId: 'test-operator', member: '000.00.00.H49', roles: ['operator'] }, 300);
  const integrity = async (): Promise<Integrity> => {
    const res = await fetch(`${audit.url}/v1/audit/integrity`, { headers: { authorization: `Bearer ${operator}` } });
    if (res.status !== 200) throw new Error(`GET /v1/audit/integrity answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as Integrity;
  };
  // The leader publishes a checkpoint right after storing it.
  const checkpointed = async (seq: number) => {
    await eventually(`a checkpoint at ${seq}`, async () => (await audit.store.lastCheckpoint())?.seq === seq);
    await new Promise((r) => setTimeout(r, 1000));
  };

  await send(20);
  await eventually('20 entries', async () => (await audit.store.head())?.seq === 20);
  await checkpointed(20);
  const intact = await integrity();
  t.match(intact.verification, { ok: true, entries: 20 }, 'an intact chain');
  t.ok((intact.verification.published?.checked ?? 0) >= 1, 'checked against the copies on Kafka');
  t.notOk('publishedUnreadable' in intact.verification);

  // An insider cuts the tail together with the stored checkpoints that cover it.
  const attacker = new pg.Client(databaseClientConfig(database.url));
  await attacker.connect();
  await attacker.query('SET session_replication_role = replica');
  await attacker.query('DELETE FROM audit_entries WHERE seq > 15');
  await attacker.query('DELETE FROM audit_checkpoints WHERE seq > 15');
  await attacker.end();

  const cut = await integrity();
  t.equal(cut.verification.ok, false, 'the cut tail is reported');
  t.equal(cut.verification.firstBad?.seq, 16, 'from the first missing entry');
  t.match(cut.verification.firstBad?.reason, /entries 16\.\.20 are missing: .*published on Kafka .*tail cut/);
  // A database restored from an older copy looks the same: the report says so, and how far the
  // copies on Kafka reach, so that an operator who restored can act on it (README, "Backup and
  // restore"; found by the disaster-recovery drill, where it said "tail cut" alone).
  t.match(cut.verification.firstBad?.reason, /or the database was restored from a copy older than that checkpoint \(README, "Backup and restore"\): \d+ checkpoints? published on Kafka disagrees? with the chain, the furthest covering seq 20, signed at /);

  // The chain grows on from the cut (as after a restore from an older dump) and gets checkpoints
  // of its own: the copies published before the cut still disagree with it.
  await send(10);
  await eventually('the chain grown past the cut', async () => ((await audit.store.head())?.seq ?? 0) >= 25);
  await eventually('a checkpoint of the regrown chain', async () => ((await audit.store.lastCheckpoint())?.seq ?? 0) >= 25);
  const regrown = await integrity();
  t.equal(regrown.verification.ok, false, 'a chain grown again after the cut is still reported');
  t.equal(regrown.verification.firstBad?.seq, 20);
  t.match(regrown.verification.firstBad?.reason, /published on Kafka: the chain up to 20 was rewritten/);
  t.match(regrown.verification.firstBad?.reason, /or the database was restored from a copy older than that checkpoint .*the furthest covering seq 20, signed at /, 'a restore that went on is named too');
});
