// kafkajs-fetch-window.ts on a real broker: after a fetch that brought records, the next fetch
// waits for a batch (up to the window); after an empty one the consumer's own settings apply
// again, so a lone record on a quiet topic still arrives at once. Fetch durations are read from
// kafkajs's request events: with the window off no fetch lasts longer than maxWaitTimeInMs.
import t from 'tap';
import { createRequire } from 'node:module';
import type { Consumer } from 'kafkajs';
import { patchedConsumerGroupFetch, setFetchPacing, setFetchWindow, wakeFetches } from '../services/platform/kafkajs-fetch-window.js';
import { ensureTopics } from '../services/platform/kafka-transport.js';
import { testKafka } from './helpers/test-kafka.js';

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: { fetch: unknown } };
const MAX_WAIT_MS = 100;
// Far apart, so a fetch slowed by a busy broker is not mistaken for one that waited for a batch.
const WINDOW_MS = 1500;
const LONG_MS = WINDOW_MS - 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('kafkajs uses the patched fetch', async (t) => {
  t.equal(ConsumerGroup.prototype.fetch, patchedConsumerGroupFetch);
});

/** A consumer of `topic` whose fetches are shaped by `shaping` (set before it starts, undone at teardown). */
async function watchedConsumer(t: { teardown(fn: () => unknown): void }, groupId: string, topic: string, shaping: { apply(): void; remove(): void }) {
  const kafka = testKafka(groupId);
  shaping.apply();
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: MAX_WAIT_MS, minBytes: 1 });
  const fetches: { at: number; ms: number }[] = [];
  consumer.on(consumer.events.REQUEST, (e) => {
    if (e.payload.apiName === 'Fetch') fetches.push({ at: Date.now(), ms: e.payload.duration });
  });
  const received: { value: string; at: number }[] = [];
  await consumer.connect();
  t.teardown(async () => {
    shaping.remove();
    await consumer.disconnect();
  });
  await consumer.subscribe({ topic, fromBeginning: true });
  let joined!: () => void;
  const joinedGroup = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({ eachMessage: async ({ message }) => void received.push({ value: message.value!.toString(), at: Date.now() }) });
  await joinedGroup;
  return { fetches, received };
}

/** The fetch window of `windowMs` (0: none) for `groupId`. */
const windowShaping = (groupId: string, windowMs: number) => ({
  apply: () => setFetchWindow(groupId, windowMs > 0 ? { ms: windowMs, minBytes: 1024 * 1024 } : null, { minBytes: 1, maxWaitTimeInMs: MAX_WAIT_MS }),
  remove: () => setFetchWindow(groupId, null, { minBytes: 1, maxWaitTimeInMs: MAX_WAIT_MS }),
});

async function produceOne(topic: string, value: string): Promise<number> {
  const producer = testKafka('fetch-window-producer').producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value }] });
    return Date.now();
  } finally {
    await producer.disconnect();
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await sleep(20);
}

for (const windowMs of [WINDOW_MS, 0]) {
  t.test(windowMs > 0 ? 'with a window: one long fetch after records, short polls otherwise' : 'without a window: every fetch ends by maxWaitTimeInMs', async (t) => {
    const suffix = `${windowMs}-${Date.now()}`;
    const topic = `fetch-window-${suffix}`;
    const admin = testKafka('fetch-window-admin').admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    await ensureTopics(admin, [topic], 1);
    const groupId = `fetch-window-group-${suffix}`;
    const { fetches, received } = await watchedConsumer(t, groupId, topic, windowShaping(groupId, windowMs));
    await sleep(500);
    const quietFetches = fetches.length;
    t.ok(fetches.every((f) => f.ms < LONG_MS), `idle polls do not wait for a batch: ${fetches.map((f) => f.ms).join(', ')}`);

    const sentAt = await produceOne(topic, 'first');
    await until(() => received.length === 1, 5000);
    t.equal(received[0]?.value, 'first');
    // A lone record on a quiet topic is not held by the window.
    t.ok(received[0].at - sentAt < LONG_MS, `lone record arrived ${received[0].at - sentAt} ms after its produce`);
    const afterFirst = received[0].at;
    await sleep(WINDOW_MS + 800);
    const long = fetches.slice(quietFetches).filter((f) => f.at > afterFirst && f.ms >= LONG_MS);
    if (windowMs > 0) t.equal(long.length, 1, `exactly one fetch waited for a batch after the record: ${fetches.slice(quietFetches).map((f) => `${f.at - afterFirst}:${f.ms}`).join(", ")}`);
    else t.equal(long.length, 0, 'no fetch waited past maxWaitTimeInMs');
    // Back to short polls once a fetch came back empty.
    const latest = fetches.slice(-3);
    t.ok(latest.every((f) => f.ms < LONG_MS), `polls back to ${MAX_WAIT_MS} ms: ${latest.map((f) => f.ms).join(', ')}`);
  });
}

// Pacing: while the group is idle its fetches are spaced out (one per interval instead of one per
// maxWaitTimeInMs); wakeFetches starts the next one at once, and a record produced after the wake
// arrives as quickly as without pacing.
t.test('pacing: idle fetches spaced out, a wake fetches at once', async (t) => {
  const suffix = `pacing-${Date.now()}`;
  const topic = `fetch-pacing-${suffix}`;
  const groupId = `fetch-pacing-group-${suffix}`;
  const INTERVAL_MS = 2000;
  const admin = testKafka('fetch-pacing-admin').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureTopics(admin, [topic], 1);
  let idle = true;
  const { fetches, received } = await watchedConsumer(t, groupId, topic, {
    apply: () => setFetchPacing(groupId, { isIdle: () => idle, idleIntervalMs: INTERVAL_MS }),
    remove: () => setFetchPacing(groupId, null),
  });
  // When each fetch ended (kafkajs reports a request once it is answered).
  const endedAt = () => fetches.map((f) => f.at);

  // Idle: about one fetch per interval (without pacing this would be ~3 s / 100 ms = 30).
  const idleFrom = Date.now();
  await sleep(3 * INTERVAL_MS);
  const idleFetches = endedAt().filter((at) => at >= idleFrom).length;
  t.ok(idleFetches >= 1 && idleFetches <= 4, `idle for ${3 * INTERVAL_MS} ms: ${idleFetches} fetches`);

  // Somebody waits now: the held fetch goes at once and the record produced next arrives promptly.
  idle = false;
  const wokenAt = Date.now();
  wakeFetches(groupId);
  await until(() => endedAt().some((at) => at >= wokenAt), INTERVAL_MS);
  t.ok(endedAt().some((at) => at >= wokenAt && at - wokenAt < INTERVAL_MS / 2), `a fetch ${Math.min(...endedAt().filter((at) => at >= wokenAt)) - wokenAt} ms after the wake`);
  const sentAt = await produceOne(topic, 'awaited');
  await until(() => received.length === 1, 5000);
  t.equal(received[0]?.value, 'awaited');
  t.ok(received[0].at - sentAt < INTERVAL_MS / 2, `record arrived ${received[0].at - sentAt} ms after its produce`);

  // Not idle: fetches follow each other at maxWaitTimeInMs again.
  const busyFrom = Date.now();
  await sleep(1000);
  const busyFetches = endedAt().filter((at) => at >= busyFrom).length;
  t.ok(busyFetches >= 4, `not idle for 1 s: ${busyFetches} fetches`);
});
