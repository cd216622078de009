// A receiving system down for longer than an attempt-count budget lasts, on the real broker:
// (a) every message is delivered once it comes back, none dead-lettered, each received once;
// (b) with a small parked cap, many messages while it is down keep the runner's parked retries
//     under the cap (the retry partitions wait in Kafka) and all are delivered afterwards, while
//     the retries of another system of the same connector are delivered meanwhile;
// (c) a spent time budget dead-letters with a reason that names the attempts and the time;
// (d) two retry chains for one message (a re-read after a crash) end in one delivery and no
//     dead letter: both run to the same deadline and the first delivery stops the other.
// The receiver is closed for real (connections refused), as a host that is down.
import t from 'tap';
import { startTestBus, eventually, type TestBus } from './helpers/test-bus.js';
import { ChaosReceiver } from './chaos/receiver.js';
import type { BusConfig } from '../services/platform/config.js';
import { topicsFor } from '../services/platform/topics.js';
import { readTopic } from './helpers/topic-reader.js';
import { testKafka } from './helpers/test-kafka.js';

const RECIPIENT = '000.00.15.H49';

async function busWithReceiver(t: { teardown(fn: () => unknown): void }, name: string, config: Partial<BusConfig>): Promise<{ bus: TestBus; receiver: ChaosReceiver }> {
  const receiver = new ChaosReceiver(0);
  await receiver.start();
  t.teardown(() => receiver.stop());
  const bus = await startTestBus(t, {
    name,
    config,
    registry: (r) => {
      const system = r.systems.find((s) => s.clientId === 'so-tp-qlvb')!;
      system.endpoint = `${receiver.url}/so-tp-qlvb`;
    },
  });
  return { bus, receiver };
}

async function sendNotices(bus: TestBus, n: number, tag: string): Promise<string[]> {
  const sender = bus.client('so-tttt-qlvb');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await sender.send({ type: 'notice.send', to: { member: RECIPIENT, service: 'notice' }, payload: { subject: `${tag} ${i}`, body: 'Nội dung thông báo' }, correlationId: `${tag}-${i}` });
    if (r.status !== 202) throw new Error(`send answered ${r.status}`);
    ids.push(r.body.id as string);
  }
  return ids;
}

/** One gauge of the runner's /metrics for the relay connector. */
async function runnerGauge(bus: TestBus, name: string): Promise<number> {
  const text = await (await fetch(`${bus.runner!.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('connector="relay"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function statuses(bus: TestBus, ids: string[]): Promise<Map<string, number>> {
  const sender = bus.client('so-tttt-qlvb');
  const counts = new Map<string, number>();
  for (const id of ids) {
    const s = (await sender.status(id)).body.status as string;
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('(a) down for 20 s, far past the old 5-attempt budget: all delivered after, once each, none dead-lettered', async (t) => {
  // No attempt limit, the default day-long time budget; short delays keep the file quick.
  const { bus, receiver } = await busWithReceiver(t, 'outage-a', { retryMaxAttempts: 0, retryBaseDelayMs: 200, retryMaxDelayMs: 2000 });
  await receiver.down();
  const downAt = Date.now();
  const ids = await sendNotices(bus, 30, 'outage-a');
  await eventually(async () => (await runnerGauge(bus, 'lgsp_runner_open_circuits')) === 1, 15_000);
  // Still down, so still open: read it once more as the assertion itself.
  t.equal(await runnerGauge(bus, 'lgsp_runner_open_circuits'), 1, 'the destination\'s circuit opened (retries held behind one probe)');
  await sleep(Math.max(0, 20_000 - (Date.now() - downAt)));
  t.equal(receiver.receipts.size, 0, 'nothing reached the receiver while it was down');
  const upAt = Date.now();
  await receiver.up();
  await eventually(() => ids.every((id) => receiver.receipts.has(id)), 30_000, 200);
  const lastArrival = Math.max(...ids.map((id) => receiver.receipts.get(id)!.at));
  t.comment(`all 30 received ${lastArrival - upAt} ms after the receiver came back`);
  t.ok(lastArrival - upAt < 10_000, 'delivery after the recovery is prompt (held retries released, not left on their backoff)');
  t.equal(receiver.duplicates, 0, 'each received exactly once');
  const counts = await eventually(async () => {
    const c = await statuses(bus, ids);
    return c.get('delivered') === ids.length ? c : null;
  }, 20_000, 500);
  t.same([...counts], [['delivered', 30]], 'every status delivered, none dead-lettered');
  t.equal(await runnerGauge(bus, 'lgsp_runner_open_circuits'), 0, 'the circuit closed');
});

t.test('(b) a small parked cap: parked retries stay under it while down, all delivered after', async (t) => {
  const cap = 10;
  const { bus, receiver } = await busWithReceiver(t, 'outage-b', { retryMaxAttempts: 0, retryBaseDelayMs: 200, retryMaxDelayMs: 2000, retryParkedMaxRecords: cap });
  await receiver.down();
  let maxParked = 0;
  let maxPaused = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxParked = Math.max(maxParked, await runnerGauge(bus, 'lgsp_runner_parked_records'));
      maxPaused = Math.max(maxPaused, await runnerGauge(bus, 'lgsp_runner_retry_partitions_paused'));
      await sleep(100);
    }
  })();
  const ids = await sendNotices(bus, 80, 'outage-b');
  await eventually(() => maxPaused > 0, 20_000, 100);
  // Another system of the same connector, up but failing each message's first attempt: its
  // retries share the retry topic with the down system's backlog, and must not wait for it.
  bus.simulator.modes.set('so-tttt-qlvb', { mode: 'fail', remaining: 5, status: 503 });
  const other = bus.client('vp-ubnd-qlvb');
  const otherIds: string[] = [];
  for (let i = 0; i < 5; i++) otherIds.push((await other.send({ type: 'notice.send', to: { member: '000.00.12.H49', service: 'notice' }, payload: { subject: `other ${i}`, body: 'x' } })).body.id as string);
  const otherStarted = Date.now();
  await eventually(() => otherIds.every((id) => (bus.simulator.received.get('so-tttt-qlvb') ?? []).some((m) => m.id === id)), 30_000, 200);
  t.comment(`the other system's 5 retried messages delivered ${Date.now() - otherStarted} ms after sending, the down system's backlog still waiting`);
  t.ok((bus.simulator.attempts.get('so-tttt-qlvb') ?? 0) >= 10, 'each of them failed once and went through the retry topic');
  t.equal(receiver.receipts.size, 0, 'while the first system was still down');
  await receiver.up();
  await eventually(() => ids.every((id) => receiver.receipts.has(id)), 45_000, 200);
  sampling = false;
  await sampler;
  t.comment(`parked at most ${maxParked} (cap ${cap}); retry partitions paused at most ${maxPaused}`);
  t.ok(maxParked > 0, 'retries were parked');
  t.ok(maxParked <= cap, `parked retries never above the cap (${maxParked} <= ${cap})`);
  t.ok(maxPaused > 0, 'retry partitions were paused at the cap, the rest waited in Kafka');
  t.equal(receiver.duplicates, 0, 'each received exactly once');
  const counts = await eventually(async () => {
    const c = await statuses(bus, ids);
    return c.get('delivered') === ids.length ? c : null;
  }, 20_000, 500);
  t.same([...counts], [['delivered', 80]], 'all 80 delivered, none dead-lettered');
  t.equal(await runnerGauge(bus, 'lgsp_runner_retry_partitions_paused'), 0, 'resumed once the backlog drained');
});

t.test('(c) the time budget spent: dead-lettered with the attempts and the time in the reason', async (t) => {
  const { bus, receiver } = await busWithReceiver(t, 'outage-c', { retryMaxAttempts: 0, retryMaxAgeSeconds: 3, retryBaseDelayMs: 200, retryMaxDelayMs: 1000 });
  await receiver.down();
  const [id] = await sendNotices(bus, 1, 'outage-c');
  const sender = bus.client('so-tttt-qlvb');
  const view = await eventually(async () => {
    const r = await sender.status(id);
    return r.body.status === 'dead_lettered' ? r.body : null;
  }, 20_000, 200);
  const dead = view.events.find((e: { event: string }) => e.event === 'dead_lettered');
  t.match(dead.detail.reason, /^gave up after \d+ attempts over [34]\.\d s: .*ECONNREFUSED/, `reason: ${dead.detail.reason}`);
  t.ok(dead.detail.attempts >= 2, `more than one attempt (${dead.detail.attempts})`);
  const acceptedAt = Date.parse(view.events[0].at);
  t.ok(Date.parse(dead.at) - acceptedAt < 6000, 'dead-lettered when the budget ended, not long after');
  // The reason names the receiver's endpoint for operators; the sender, another agency, is not
  // told its network address (the registry's endpoints are the operators' to see).
  const receiverHost = new URL(receiver.url).host;
  for (const e of view.events) t.notMatch(JSON.stringify(e.detail ?? {}), receiverHost, `the sender's ${e.event} names no address of the receiver`);
  t.match(dead.detail.reason, /delivery to \[address withheld\] failed: ECONNREFUSED/, 'the sender reads the failure without the address');
  const operatorView = (await bus.client('lgsp-operator').status(id)).body;
  const operatorDead = operatorView.events.find((e: { event: string }) => e.event === 'dead_lettered');
  t.match(operatorDead.detail.reason, `delivery to ${new URL(receiver.url).origin} failed: ECONNREFUSED`, 'an operator reads where delivery failed');
});

t.test('(d) a second retry chain for one message (a record read again after a crash) ends in one delivery, no dead letter', async (t) => {
  const { bus, receiver } = await busWithReceiver(t, 'outage-d', { retryMaxAttempts: 0, retryMaxAgeSeconds: 8, retryBaseDelayMs: 200, retryMaxDelayMs: 1000 });
  await receiver.down();
  const [id] = await sendNotices(bus, 1, 'outage-d');
  const sender = bus.client('so-tttt-qlvb');
  await eventually(async () => (await sender.status(id)).body.status === 'failed', 15_000, 100);
  // What a re-read after a crash does: the message's record handled again, starting a chain of
  // its own beside the first (same gateway signature, its own attempt count).
  const topics = topicsFor(bus.config.topicPrefix);
  const [original] = (await readTopic(bus.config.kafkaBrokers, topics.message('notice'), 1)).filter((r) => r.headers['lgsp-id'] === id);
  const producer = testKafka('second-chain').producer();
  await producer.connect();
  await producer.send({
    topic: topics.retry('relay'),
    acks: -1,
    messages: [{ key: original.key, value: original.value, headers: { ...original.headers, 'lgsp-attempt': '2', 'lgsp-origin-topic': topics.message('notice') } }],
  });
  await producer.disconnect();
  await sleep(3000);
  await receiver.up();
  const view = await eventually(async () => {
    const r = await sender.status(id);
    return r.body.status === 'delivered' ? r.body : null;
  }, 20_000, 200);
  // Past the budget's end: a chain still going would have dead-lettered by now.
  const acceptedAt = Date.parse(view.events[0].at);
  await sleep(Math.max(0, acceptedAt + 10_000 - Date.now()));
  const final = (await sender.status(id)).body;
  t.equal(receiver.receipts.get(id)?.count, 1, 'received once');
  t.equal(final.status, 'delivered');
  t.notOk(final.events.some((e: { event: string }) => e.event === 'dead_lettered'), 'neither chain dead-lettered it');
  t.ok(final.events.filter((e: { event: string }) => e.event === 'delivery_failed').length >= 2, 'both chains did retry while it was down');
});
