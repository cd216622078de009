// The retry budget and its bounded memory without Kafka: a budget in time (from acceptance) as
// well as attempts, the manifest may only extend it and never past the signature's lifetime,
// the dead letter's reason names attempts and time; a destination's circuit opens after
// consecutive connection failures, lets one probe through, and closes on an answer; parked
// records are counted in bytes and released by destination.
import t from 'tap';
import { budgetLeft, formatDuration, gaveUpReason } from '../services/runner/retry-policy.js';
import { retryBudget } from '../services/runner/retry-budget-config.js';
import { DestinationCircuits, isConnectionFailure } from '../services/runner/destination-circuit.js';
import { RecordDispatcher, type Dispatchable } from '../services/runner/record-dispatcher.js';
import { loadConfig } from '../services/platform/config.js';

t.test('the budget is spent by time from acceptance, or by attempts when limited', async (t) => {
  const day = 24 * 3600 * 1000;
  const accepted = 1_000_000;
  t.same(budgetLeft({ maxAttempts: Infinity, maxAgeMs: day }, 50, accepted, accepted + 3600_000), { spent: false, remainingMs: day - 3600_000 }, 'fifty attempts in an hour: still within a day');
  t.equal(budgetLeft({ maxAttempts: Infinity, maxAgeMs: day }, 2, accepted, accepted + day).spent, true, 'a day later: spent');
  t.equal(budgetLeft({ maxAttempts: 3, maxAgeMs: day }, 3, accepted, accepted + 10).spent, true, 'an attempt limit still applies');
  t.equal(gaveUpReason(7, 93_000, 'delivery to http://x failed: ECONNREFUSED'), 'gave up after 7 attempts over 1 min 33 s: delivery to http://x failed: ECONNREFUSED');
  t.equal(formatDuration(850), '850 ms');
  t.equal(formatDuration(12_400), '12.4 s');
  t.equal(formatDuration(2 * 3600_000 + 3 * 60_000), '2 h 3 min');
});

t.test('defaults ride out hours; a manifest only extends the budget, never past the signature', async (t) => {
  const c = loadConfig({}, {});
  t.equal(c.retryMaxAttempts, 0, 'no attempt limit by default');
  t.equal(c.retryMaxAgeSeconds, 24 * 3600);
  t.equal(c.retryMaxDelayMs, 30_000, 'backoff capped at 30 s: a chain of retries behind an earlier update of the same dossier stays short');
  t.same(retryBudget(c), { maxAttempts: Infinity, maxAgeMs: 24 * 3600_000 });
  t.same(retryBudget({ ...c, retryMaxAttempts: 3 }, { maxAttempts: 20 }), { maxAttempts: 20, maxAgeMs: 24 * 3600_000 }, 'the larger attempt limit');
  t.same(retryBudget({ ...c, retryMaxAttempts: 3 }, { maxAttempts: 2 }).maxAttempts, 3, 'never a smaller one');
  t.same(retryBudget(c, { maxAttempts: 20 }).maxAttempts, Infinity, 'a limit does not shrink the unlimited default');
  t.equal(retryBudget(c, { maxAgeSeconds: 3 * 24 * 3600 }).maxAgeMs, 3 * 24 * 3600_000, 'a longer time budget');
  t.equal(retryBudget({ ...c, messageTtlSeconds: 3600 }).maxAgeMs, 3600_000, 'capped at the record signature\'s lifetime');
  t.equal(loadConfig({}, { LGSP_RETRY_MAX_AGE_SECONDS: '600', LGSP_RETRY_PARKED_MAX_RECORDS: '50' }).retryParkedMaxRecords, 50);
});

t.test('a circuit opens after consecutive connection failures, probes once, closes on an answer', async (t) => {
  let now = 10_000;
  const circuits = new DestinationCircuits({ baseDelayMs: 1000, maxDelayMs: 8000 }, 3, () => now);
  t.ok(isConnectionFailure('delivery to http://127.0.0.1:1 failed: ECONNREFUSED'));
  t.notOk(isConnectionFailure('HTTP 503 from http://127.0.0.1:1'));
  circuits.failed('d', 'failed: ECONNREFUSED');
  circuits.failed('d', 'HTTP 500'); // an answer: the destination is there, the count starts over
  circuits.failed('d', 'failed: ECONNREFUSED');
  circuits.failed('d', 'failed: ECONNREFUSED');
  t.same(circuits.admit('d'), { go: true, probe: false }, 'two in a row: still closed');
  circuits.failed('d', 'failed: ECONNREFUSED');
  t.equal(circuits.openCount, 1, 'three in a row: open');
  t.ok(circuits.isOpen('d'));
  const held = circuits.admit('d');
  t.equal(held.go, false, 'retries are held');
  t.ok(!held.go && held.until > now && held.until <= now + 1000, 'until the first probe (one base delay)');
  t.same(circuits.admit('other'), { go: true, probe: false }, 'other destinations are not held');
  now += 1000;
  t.same(circuits.admit('d'), { go: true, probe: true }, 'one probe at the probe time');
  t.equal(circuits.admit('d').go, false, 'the rest wait for its outcome');
  circuits.failed('d', 'failed: ECONNREFUSED');
  const next = circuits.admit('d');
  t.ok(!next.go && next.until - now >= 1000 && next.until - now <= 2000, 'a failed probe pushes the next one out with the backoff');
  now = next.go ? now : next.until;
  t.same(circuits.admit('d'), { go: true, probe: true });
  circuits.probeAbandoned('d');
  t.equal(circuits.open()[0].destination, 'd', 'a probe that said nothing leaves it open');
  t.equal(circuits.reached('d'), true, 'a delivery closes it (the caller releases the held retries)');
  t.equal(circuits.openCount, 0);
  t.equal(circuits.reached('d'), false, 'closing twice says so once');
});

interface Item extends Dispatchable {
  name: string;
}

t.test('parked records are counted in bytes and released together by destination', async (t) => {
  const ran: string[] = [];
  const d = new RecordDispatcher<Item>({ concurrency: 4, lanes: 1, run: async (item) => (ran.push(item.name), true) });
  const later = Date.now() + 60_000;
  d.add({ name: 'a1', key: 'a1', lane: 'x', dueAt: later, size: 100, group: 'A' });
  d.add({ name: 'a2', key: 'a2', lane: 'x', dueAt: later + 1, size: 50, group: 'A' });
  d.add({ name: 'b1', key: 'b1', lane: 'x', dueAt: later, size: 10, group: 'B' });
  t.same([d.parkedCount, d.parkedBytes], [3, 160]);
  t.equal(d.releaseGroup('A'), 2);
  await new Promise((r) => setTimeout(r, 10));
  t.same(ran, ['a1', 'a2'], 'destination A\'s retries ran at once');
  t.same([d.parkedCount, d.parkedBytes], [1, 10], 'B is still parked');
  t.equal(d.releaseGroup('A'), 0);
  d.stop();
  t.same([d.parkedCount, d.parkedBytes], [0, 0]);
});
