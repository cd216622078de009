// Reading the checkpoints published on Kafka grows with the log (one every LGSP_CHECKPOINT_INTERVAL_MS
// while entries arrive). Its deadline bounds a stall — the wait for the first record, connecting
// included, then for each next one — not the whole read: a fixed bound on the whole read made
// `lgsp audit verify` (15 s) and the integrity check fail on a healthy broker once months of
// checkpoints took longer than that to read. A read may also start at an offset (where the seal
// of the last full pass left off: verification-seal.ts).
import t from 'tap';
import { readPublishedCheckpoints, readPublishedCheckpointsFrom } from '../services/audit/checkpoint-topic.js';
import { ensureTopics } from '../services/platform/kafka-transport.js';
import { grantTestAcls, testKafka } from './helpers/test-kafka.js';

const COUNT = 60_000;

t.test('a read longer than its deadline goes on while records arrive; a read from an offset gets the rest', async (t) => {
  const prefix = `t${Date.now()}-${process.pid}-`;
  const topic = `${prefix}lgsp.audit.checkpoints`;
  await grantTestAcls(prefix);
  const kafka = testKafka('checkpoints-long-read');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 1);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  // Checkpoint-sized values (a compact JWS is about 300 bytes).
  const value = (i: number) => `cp-${i}-${'x'.repeat(290)}`;
  for (let i = 0; i < COUNT; i += 1000) {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 1000 }, (_, j) => ({ key: 'checkpoint', value: value(i + j) })) });
  }

  const deadlineMs = 1000;
  const started = Date.now();
  const all = await readPublishedCheckpoints(kafka, topic, prefix, deadlineMs);
  const ms = Date.now() - started;
  t.comment(`read ${all.length} records in ${ms} ms with a ${deadlineMs} ms deadline`);
  t.equal(all.length, COUNT, 'every record, in order, however long the whole read took');
  t.equal(all[0], value(0));
  t.equal(all[COUNT - 1], value(COUNT - 1));

  const rest = await readPublishedCheckpointsFrom(kafka, topic, prefix, deadlineMs, String(COUNT - 3));
  t.same(rest, { checkpoints: [value(COUNT - 3), value(COUNT - 2), value(COUNT - 1)], end: String(COUNT) });
  t.same(await readPublishedCheckpointsFrom(kafka, topic, prefix, deadlineMs, String(COUNT)), { checkpoints: [], end: String(COUNT) }, 'nothing after the end: no read at all');
});
