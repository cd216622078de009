// The batching producer keeps each flush under Kafka's request limits: many large records sent
// at once are all acknowledged (split over several flushes) instead of failing as one batch.
import t from 'tap';
import { BatchingProducer, createKafka, ensureTopics } from '../services/platform/kafka-transport.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { kafkaBrokers, uniquePrefix } from './helpers/test-bus.js';

t.test('large records are split across flushes and all acknowledged', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const kafka = createKafka('producer-batching-test', kafkaBrokers());
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${uniquePrefix('batching')}big`;
  await ensureTopics(admin, [topic], 1);
  const producer = new BatchingProducer(kafka, () => keystore.signingKey, { lingerMs: 5, maxBatch: 500, ttlSeconds: 60 });
  await producer.connect();
  t.teardown(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });
  const value = 'x'.repeat(100 * 1024);
  // 30 × 100 KiB into one partition: one flush would be ~3 MiB, over message.max.bytes.
  const results = await Promise.allSettled(Array.from({ length: 30 }, () => producer.send([{ topic, value }])));
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 30, 'every send acknowledged');
  t.ok(producer.stats.batches >= 4, `split over several flushes (${producer.stats.batches})`);
  const offsets = await admin.fetchTopicOffsets(topic);
  t.equal(Number(offsets[0].high), 30, 'all 30 records are on the topic');
});
