// The batching producer keeps each flush under Kafka's request limits: many large records sent
// at once are all acknowledged (split over several flushes) instead of failing as one batch;
// and its batches follow the load (a lone record at once, concurrent ones sharing a flush).
import t from 'tap';
import { BatchingProducer, ensureTopics } from '../services/platform/kafka-transport.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { RecordVerifier } from '../services/platform/record-signing.js';
import { readTopic } from './helpers/topic-reader.js';
import { kafkaBrokers, uniquePrefix } from './helpers/test-bus.js';
import { testKafka } from './helpers/test-kafka.js';

t.test('large records are split across flushes and all acknowledged', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const kafka = testKafka('producer-batching-test');
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

t.test('batches follow the load: a lone record goes at once, concurrent senders share flushes', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const kafka = testKafka('producer-adaptive-test');
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${uniquePrefix('adaptive')}load`;
  await ensureTopics(admin, [topic], 3);
  const producer = new BatchingProducer(kafka, () => keystore.signingKey, { lingerMs: 0, maxBatch: 500, ttlSeconds: 60 });
  await producer.connect();
  t.teardown(async () => {
    await producer.disconnect();
    await admin.disconnect();
  });
  const value = JSON.stringify({ body: 'x'.repeat(1024) });

  // Lone records, one after the other: each is flushed alone, without waiting for company.
  const lone: number[] = [];
  for (let i = 0; i < 10; i++) {
    const began = process.hrtime.bigint();
    await producer.send([{ topic, key: `lone-${i}`, value }]);
    lone.push(Number(process.hrtime.bigint() - began) / 1e6);
  }
  t.equal(producer.stats.batches, 10, 'ten lone records, ten flushes');
  t.equal(producer.stats.largestBatch, 1);

  // 40 closed-loop senders (like gateway requests waiting for their 202): while one flush is in
  // flight the others queue behind it and go together in the next.
  const before = { ...producer.stats };
  const perSender = 25;
  const loaded: number[] = [];
  await Promise.all(
    Array.from({ length: 40 }, async (_, s) => {
      for (let i = 0; i < perSender; i++) {
        const began = process.hrtime.bigint();
        await producer.send([{ topic, key: `s${s}-${i}`, value }]);
        loaded.push(Number(process.hrtime.bigint() - began) / 1e6);
      }
    }),
  );
  const records = producer.stats.records - before.records;
  const batches = producer.stats.batches - before.batches;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  t.comment(`lone record acknowledged in ${median(lone).toFixed(1)} ms (median); under 40 senders ${records} records in ${batches} flushes (mean ${(records / batches).toFixed(1)}, largest ${producer.stats.largestBatch}), ${median(loaded).toFixed(1)} ms per send (median)`);
  t.equal(records, 40 * perSender, 'every record acknowledged');
  t.ok(records / batches >= 10, `flushes carry many records under load (mean ${(records / batches).toFixed(1)})`);
  t.ok(producer.stats.largestBatch >= 20, `the largest flush grew to ${producer.stats.largestBatch}`);

  // And the signatures of a grown batch still verify record by record.
  const stored = await readTopic(kafkaBrokers(), topic, 10 + 40 * perSender);
  const verifier = new RecordVerifier(keystore.publicKeyLookup());
  const checks = await Promise.all(stored.map((r) => verifier.verify(Buffer.from(r.value), r.headers)));
  t.ok(checks.every((c) => c.ok), `all ${stored.length} records verify`);
});
