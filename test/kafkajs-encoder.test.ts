// kafkajs-encoder.ts and kafkajs-record-batch.ts change how kafkajs gathers the bytes of a
// request (large pieces by reference, no zero-filled growth, varints in place, the record batch's
// CRC over its pieces), never the bytes: every request encodes to exactly what the library's own
// encoder writes, and records of every size go through a real broker and come back the same.
import t from 'tap';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BY_REFERENCE_BYTES } from '../services/platform/kafkajs-encoder.js';
import { crc32c } from '../services/platform/kafkajs-record-batch.js';
import { ensureTopics } from '../services/platform/kafka-transport.js';
import { testKafka } from './helpers/test-kafka.js';

const require = createRequire(import.meta.url);
type RequestModule = (args: Record<string, unknown>) => Promise<{ buffer: Buffer; size(): number }>;
type ProduceModule = (args: Record<string, unknown>) => unknown;

/** kafkajs's request encoders: the patched ones (loaded already) and a fresh, unpatched copy. */
function encoders(): { patched: { request: RequestModule; produce: ProduceModule }; original: { request: RequestModule; produce: ProduceModule } } {
  const load = () => ({
    request: require('kafkajs/src/protocol/request.js') as RequestModule,
    produce: require('kafkajs/src/protocol/requests/produce/v7/request.js') as ProduceModule,
  });
  const patched = load();
  const protocolDir = dirname(require.resolve('kafkajs/src/protocol/encoder.js'));
  const cached = Object.keys(require.cache).filter((path) => path.startsWith(protocolDir));
  const saved = cached.map((path) => [path, require.cache[path]] as const);
  for (const path of cached) delete require.cache[path];
  const original = load();
  for (const [path, module] of saved) require.cache[path] = module;
  return { patched, original };
}

const NOW = Date.now();
const message = (valueBytes: number, extra: Record<string, unknown> = {}) => ({
  key: randomBytes(8).toString('hex'),
  value: randomBytes(valueBytes),
  // Fixed: kafkajs stamps a message without one with Date.now(), which differs between two runs.
  timestamp: String(NOW),
  headers: { 'lgsp-id': '0193a0c4-7e2a-7c3b-9d2e-3f1a2b3c4d5e', 'lgsp-type': 'notice.send', several: ['a', Buffer.from('b')] },
  ...extra,
});

t.test('every request encodes to the bytes kafkajs itself writes', async (t) => {
  const { patched, original } = encoders();
  t.not(patched.request, original.request, 'two copies of the library\'s encoders');
  const cases: Record<string, Array<{ topic: string; partitions: Array<{ partition: number; messages: unknown[] }> }>> = {
    'small records': [{ topic: 'lgsp.msg.notice', partitions: [{ partition: 0, messages: Array.from({ length: 14 }, () => message(1024)) }] }],
    'records around the by-reference size': [{ topic: 't', partitions: [{ partition: 3, messages: [BY_REFERENCE_BYTES - 1, BY_REFERENCE_BYTES, BY_REFERENCE_BYTES + 1].map((n) => message(n)) }] }],
    '100 KiB records over partitions and topics': [
      { topic: 'lgsp.msg.edoc', partitions: [{ partition: 0, messages: [message(100 * 1024), message(10), message(100 * 1024)] }, { partition: 1, messages: [message(300 * 1024)] }] },
      { topic: 'lgsp.events', partitions: [{ partition: 2, messages: [message(200)] }] },
    ],
    'null and empty values, no key, string values, timestamps': [{
      topic: 'x',
      partitions: [{
        partition: 0,
        messages: [
          { key: null, value: null, timestamp: String(NOW) },
          { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: String(NOW) },
          { value: 'Thông báo họp giao ban '.repeat(3000), timestamp: String(Date.now() - 987_654_321) },
          { key: randomBytes(BY_REFERENCE_BYTES), value: randomBytes(64 * 1024), timestamp: String(Date.now() + 5_000) },
        ],
      }],
    }],
  };
  for (const [label, topicData] of Object.entries(cases)) {
    const args = { acks: -1, timeout: 30_000, compression: 0, topicData };
    const frame = async (lib: typeof patched) => lib.request({ correlationId: 7, clientId: 'lgsp-gateway', request: lib.produce(args) });
    const [theirs, ours] = [await frame(original), await frame(patched)];
    t.equal(ours.size(), theirs.size(), `${label}: same size`);
    t.ok(ours.buffer.equals(theirs.buffer), `${label}: same bytes (${theirs.buffer.length})`);
    t.ok(ours.buffer.equals(theirs.buffer), `${label}: same bytes read again`);
  }
});

t.test('CRC-32C over pieces equals the library\'s over the joined bytes', async (t) => {
  const libraryCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;
  for (const length of [0, 1, 7, 8, 9, 15, 16, 17, 100, 4096, 100_003]) {
    const bytes = randomBytes(length);
    const cut = Math.floor(length / 3);
    t.equal(crc32c([bytes]), libraryCrc(bytes), `${length} bytes in one piece`);
    t.equal(crc32c([bytes.subarray(0, cut), bytes.subarray(cut, cut + 5), bytes.subarray(cut + 5)]), libraryCrc(bytes), `${length} bytes in three pieces`);
  }
  t.equal(crc32c([Buffer.from('123456789')]), 0xe3069283, 'the standard check value');
});

t.test('a large piece is kept by reference, a small one copied', async (t) => {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => { writeBytes(value: Buffer): unknown; readonly buffer: Buffer };
  const large = randomBytes(BY_REFERENCE_BYTES);
  const small = randomBytes(BY_REFERENCE_BYTES - 1);
  const [withLarge, withSmall] = [new Encoder(), new Encoder()];
  withLarge.writeBytes(large);
  withSmall.writeBytes(small);
  // A change to the source after the write shows through only where it was not copied.
  large[0] ^= 0xff;
  small[0] ^= 0xff;
  t.equal(withLarge.buffer[4], large[0], 'the large value is the same memory');
  t.not(withSmall.buffer[4], small[0], 'the small value was copied');
});

t.test('records of every size go through the broker unchanged', async (t) => {
  const kafka = testKafka('kafkajs-encoder-test');
  const admin = kafka.admin();
  await admin.connect();
  const topic = `kafkajs-encoder-${Date.now()}`;
  t.teardown(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  // The project's topic creation: a bare createTopics({ waitForLeaders }) threw the
  // UNKNOWN_TOPIC_OR_PARTITION a loaded broker answers while its metadata settles (seen in CI).
  await ensureTopics(admin, [topic], 2);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sent = [10, 1024, BY_REFERENCE_BYTES, 100 * 1024, 400 * 1024, 7].map((n, i) => ({ key: `k${i}`, value: randomBytes(n), headers: { n: String(n) }, partition: i % 2 }));
  await producer.send({ topic, acks: -1, messages: sent });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxBytes: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = new Map<string, { value: Buffer; n: string }>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.size} of ${sent.length} records came back`)), 30_000);
    consumer.run({
      eachMessage: async ({ message }) => {
        received.set(String(message.key), { value: message.value!, n: String(message.headers?.n) });
        if (received.size === sent.length) {
          clearTimeout(timer);
          resolve();
        }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  for (const record of sent) {
    const back = received.get(record.key);
    t.ok(back?.value.equals(record.value), `${record.value.length} bytes: the same value`);
    t.equal(back?.n, String(record.value.length), `${record.value.length} bytes: its header`);
  }
});
