// kafkajs-sent-request-release.ts: once a request is written, the request queue no longer keeps
// its encoded bytes alive while it waits for the broker's answer. The first check fails with
// kafkajs's own push (the buffer stays reachable until the response); a full produce/consume on
// the real broker shows requests still go out and come back.
import t from 'tap';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
import { patchedPush } from '../services/platform/kafkajs-sent-request-release.js';
import { testKafka } from './helpers/test-kafka.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

interface QueueForTest {
  inflight: Map<number, unknown>;
  push(request: { entry: Record<string, unknown>; expectResponse: boolean; sendRequest(): void }): void;
  fulfillRequest(response: { correlationId: number; payload: unknown; size: number }): void;
  destroy(): void;
}
const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { new (opts: Record<string, unknown>): QueueForTest; prototype: QueueForTest };
const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const nextJob = () => new Promise((resolve) => setTimeout(resolve, 0));

t.test('kafkajs uses the patched push', async (t) => {
  t.equal(RequestQueue.prototype.push, patchedPush);
});

t.test('a request in flight no longer holds its encoded bytes', async (t) => {
  const q = new RequestQueue({ instrumentationEmitter: null, maxInFlightRequests: null, requestTimeout: 5000, enforceRequestTimeout: false, clientId: 'test', broker: 'test:0', logger: quietLogger });
  t.teardown(() => q.destroy());
  const written: number[] = [];
  let encoded!: WeakRef<Buffer>;
  let answered = false;
  // Made outside the closure that captures the bytes (closures of one scope share its variables).
  const entry = { correlationId: 1, apiName: 'Produce', apiKey: 0, apiVersion: 7, resolve: () => void (answered = true), reject: () => undefined };
  ((e) => {
    const bytes = Buffer.alloc(1 << 20, 1);
    encoded = new WeakRef(bytes);
    q.push({ entry: e, expectResponse: true, sendRequest: () => void written.push(bytes.length) });
  })(entry);
  t.same(written, [1 << 20], 'written once, at once');
  await nextJob();
  gc();
  t.equal(q.inflight.size, 1, 'still waiting for the answer');
  t.equal(encoded.deref(), undefined, 'its bytes were collected meanwhile');
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  t.ok(answered, 'the answer still reaches the caller');
});

t.test('produce and fetch on the real broker', async (t) => {
  const kafka = testKafka('sent-request-release');
  const topic = `sent-request-release-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = kafka.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const value = Buffer.alloc(300 * 1024, 7);
  await producer.send({ topic, acks: -1, messages: [{ value }, { value: 'small' }] });
  const offsets = await admin.fetchTopicOffsets(topic);
  t.equal(offsets[0].high, '2', 'both records acknowledged');
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  const read = await new Promise<Buffer[]>((resolve) => {
    const got: Buffer[] = [];
    void consumer.run({ eachMessage: async ({ message }) => {
      got.push(message.value!);
      if (got.length === 2) resolve(got);
    } });
  });
  t.ok(read[0].equals(value), 'the large record read back intact');
  t.equal(read[1].toString(), 'small');
});
