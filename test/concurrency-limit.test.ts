// ConcurrencyLimit: at most `limit` at once, the rest in arrival order, refusal beyond the queue or past the wait.
import t from 'tap';
import { ConcurrencyLimit, ConcurrencyLimitFull } from '../services/platform/concurrency-limit.js';

t.test('runs at most `limit` at once, in arrival order, and refuses beyond the queue', async (t) => {
  const limit = new ConcurrencyLimit(2, 2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const gates: (() => void)[] = [];
  const job = (n: number) =>
    limit.run(async () => {
      started.push(n);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return n;
    });
  const jobs = [job(1), job(2), job(3), job(4)];
  await t.rejects(job(5), ConcurrencyLimitFull, 'a fifth caller, with two running and two waiting, is refused');
  await new Promise((r) => setImmediate(r));
  t.same(started, [1, 2], 'two run, two wait');
  while (gates.length > 0 || started.length < 4) {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  t.same(await Promise.all(jobs), [1, 2, 3, 4]);
  t.same(started, [1, 2, 3, 4], 'waiters start in arrival order');
  t.equal(peak, 2, 'never more than two at once');

  const failing = new ConcurrencyLimit(1);
  await t.rejects(failing.run(async () => Promise.reject(new Error('boom'))), /boom/);
  t.equal(await failing.run(async () => 'next'), 'next', 'a failed run gives its slot back');
});

t.test('a caller not served within maxWaitMs is refused then, and its place given up', async (t) => {
  const limit = new ConcurrencyLimit(1, Infinity, () => new ConcurrencyLimitFull('waited too long'), 100);
  let release!: () => void;
  const holding = limit.run(() => new Promise<string>((r) => (release = () => r('held'))));
  const started = Date.now();
  await t.rejects(limit.run(async () => 'never'), { message: 'waited too long' }, 'the slot stayed taken: refused');
  const waited = Date.now() - started;
  t.ok(waited >= 90 && waited < 1000, `after the wait (${waited} ms)`);
  const next = limit.run(async () => 'next');
  release();
  t.equal(await holding, 'held');
  t.equal(await next, 'next', 'the refused caller left the queue: the slot goes to the one after it');
  t.equal(await limit.run(async () => 'free'), 'free', 'and comes back free');
});
