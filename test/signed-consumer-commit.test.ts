// Periodic offset commits of the signed consumer (commitIntervalMs), used by the ledger and the
// audit: kafkajs alone commits after every partition's batch, a broker write each. Here the
// handled offsets are committed once per interval, and on a clean stop, never earlier.
import t from 'tap';
import { startSignedConsumer } from '../services/platform/signed-consumer.js';
import type { RecordVerifier } from '../services/platform/record-signing.js';
import { createLogger } from '../services/platform/logger.js';
import { ensureTopics } from '../services/platform/kafka-transport.js';
import { testKafka } from './helpers/test-kafka.js';
import { eventually, uniquePrefix } from './helpers/test-bus.js';

// The subject here is commit cadence: every record counts as verified.
const acceptAll = { check: () => ({ ok: true, signedAt: 0 }) } as unknown as RecordVerifier;

t.test('handled offsets are committed once per interval and on a clean stop, not after each batch', async (t) => {
  const kafka = testKafka('signed-consumer-commit');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const topic = `${uniquePrefix('consumer-commit')}commit-test`;
  await ensureTopics(admin, [topic], 1, 1);
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const committed = async (groupId: string) => {
    const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(partitions[0].offset);
  };
  const send = async (n: number) => {
    // One produce each: separate batches, each of which kafkajs alone would commit.
    for (let i = 0; i < n; i++) await producer.send({ topic, messages: [{ value: `record ${i}` }] });
  };
  const log = createLogger('test', 'error');

  await t.test('a long interval: nothing committed while running, everything on disconnect', async (t) => {
    const groupId = `${topic}.slow`;
    const handled: string[] = [];
    const consumer = await startSignedConsumer({ kafka, groupId, topics: [topic], verifier: acceptAll, log, commitIntervalMs: 60_000, handleBatch: async (records) => {
      handled.push(...records.map((r) => r.offset));
    } });
    await send(3);
    await eventually(() => handled.length >= 3, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(await committed(groupId), -1, 'nothing committed within the interval');
    await consumer.disconnect();
    t.equal(await committed(groupId), 3, 'the handled offsets committed on a clean stop');
  });

  await t.test('a short interval: committed without a stop', async (t) => {
    const groupId = `${topic}.fast`;
    const handled: string[] = [];
    const consumer = await startSignedConsumer({ kafka, groupId, topics: [topic], verifier: acceptAll, log, commitIntervalMs: 300, handleBatch: async (records) => {
      handled.push(...records.map((r) => r.offset));
    } });
    t.teardown(() => consumer.disconnect());
    await send(2);
    await eventually(() => handled.length >= 5, 20_000);
    t.equal(await eventually(async () => ((await committed(groupId)) === 5 ? 5 : null), 10_000), 5, 'all five committed by the timer');
  });
});
