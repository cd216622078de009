// BatchedWriter: one flush in flight, everything written meanwhile batched behind it.
import t from 'tap';
import { BatchedWriter } from '../services/platform/batched-writer.js';

function recordingWriter(opts: { delayMs: number; failWhen?: (items: number[]) => boolean }) {
  const flushes: number[][] = [];
  const writer = new BatchedWriter<number>(async (items) => {
    flushes.push(items);
    await new Promise((r) => setTimeout(r, opts.delayMs));
    if (opts.failWhen?.(items)) throw new Error('database unavailable');
  });
  return { writer, flushes };
}

t.test('writes of one turn share a flush; a lone write goes at once', async (t) => {
  const { writer, flushes } = recordingWriter({ delayMs: 1 });
  await writer.write([1]);
  t.same(flushes, [[1]], 'a lone write is flushed alone, without waiting for company');
  await Promise.all([writer.write([2]), writer.write([3, 4]), writer.write([5])]);
  t.same(flushes.slice(1), [[2, 3, 4, 5]], 'writes of the same turn go in one flush');
});

t.test('busyLingerMs: while writes keep coming an idle writer waits for company; after a quiet spell a write goes at once', async (t) => {
  const flushes: { items: number[]; at: number }[] = [];
  const writer = new BatchedWriter<number>(async (items) => {
    flushes.push({ items, at: performance.now() });
  }, { busyLingerMs: 50 });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let started = performance.now();
  await writer.write([1]);
  t.ok(flushes[0].at - started < 35, `the first write goes at once (${Math.round(flushes[0].at - started)} ms)`);
  // Writes 10 ms apart: each one comes within twice the linger of the one before.
  started = performance.now();
  const writes = [writer.write([2])];
  await sleep(10);
  writes.push(writer.write([3]));
  await sleep(10);
  writes.push(writer.write([4]));
  await Promise.all(writes);
  t.same(flushes.slice(1).map((f) => f.items), [[2, 3, 4]], 'writes arriving while it lingers go in one flush');
  t.ok(flushes[1].at - started >= 45, `the writer waited for company (${Math.round(flushes[1].at - started)} ms)`);
  // A quiet spell longer than twice the linger: the next write is alone again and goes at once.
  await sleep(120);
  started = performance.now();
  await writer.write([5]);
  t.same(flushes[2].items, [5]);
  t.ok(flushes[2].at - started < 35, `after a quiet spell a write goes at once (${Math.round(flushes[2].at - started)} ms)`);
});

t.test('under load one flush is in flight and the writes arriving meanwhile go together in the next', async (t) => {
  const flushes: number[][] = [];
  const gates: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const writer = new BatchedWriter<number>(async (items) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    flushes.push(items);
    await new Promise<void>((r) => gates.push(r));
    inFlight--;
  });
  const writes: Promise<void>[] = [writer.write([0])];
  await new Promise((r) => setImmediate(r));
  t.equal(flushes.length, 1, 'the first write is being flushed');
  // 40 writes over 40 turns of the event loop while that flush is held open.
  for (let i = 1; i <= 40; i++) {
    writes.push(writer.write([i]));
    await new Promise((r) => setImmediate(r));
  }
  t.equal(flushes.length, 1, 'no second flush while one is in flight');
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  t.same(flushes[1], Array.from({ length: 40 }, (_, i) => i + 1), 'everything written meanwhile goes in the next flush');
  gates.shift()!();
  await Promise.all(writes);
  t.equal(maxInFlight, 1, 'never two flushes at once');
});

t.test('a failed flush fails only its own writers; the next flush goes on', async (t) => {
  const { writer, flushes } = recordingWriter({ delayMs: 5, failWhen: (items) => items.includes(1) });
  const first = writer.write([1]);
  await new Promise((r) => setImmediate(r));
  const second = writer.write([2]);
  await t.rejects(first, /database unavailable/);
  await t.resolves(second);
  t.same(flushes, [[1], [2]]);
});

t.test("one caller's bad item fails that caller alone when the error says so", async (t) => {
  const flushes: number[][] = [];
  const dataError = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
  const writer = new BatchedWriter<number>(async (items) => {
    flushes.push(items);
    if (items.includes(13)) throw dataError;
  }, { failsAlone: (err) => (err as { code?: string }).code === '22021' });
  const results = await Promise.allSettled([writer.write([1]), writer.write([13]), writer.write([2, 3])]);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'], 'only the caller with the bad item fails');
  t.equal((results[1] as PromiseRejectedResult).reason, dataError);
  t.same(flushes, [[1, 13, 2, 3], [1], [13], [2, 3]], 'the batch, then each caller alone');

  // Any other error (the database is down) still fails the whole batch at once.
  const down = new BatchedWriter<number>(async () => {
    throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
  }, { failsAlone: (err) => (err as { code?: string }).code === '22021' });
  const all = await Promise.allSettled([down.write([1]), down.write([2])]);
  t.same(all.map((r) => r.status), ['rejected', 'rejected']);
});

t.test('an idle writer with a linger waits for company; a busy one does not', async (t) => {
  const flushes: { items: number[]; at: number }[] = [];
  const gates: Array<() => void> = [];
  const writer = new BatchedWriter<number>(async (items) => {
    flushes.push({ items, at: Date.now() });
    await new Promise<void>((r) => gates.push(r));
  }, { lingerMs: 50 });
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 2));
  };
  const start = Date.now();
  const first = writer.write([1]);
  await new Promise((r) => setTimeout(r, 10));
  const second = writer.write([2]);
  await until(() => flushes.length === 1);
  t.same(flushes[0].items, [1, 2], 'writes within the linger share a flush');
  t.ok(flushes[0].at - start >= 45, `the idle writer waited ${flushes[0].at - start} ms`);
  gates.shift()!();
  await Promise.all([first, second]);
  // Written while a flush runs: flushed as soon as that one ends, not a linger later.
  const third = writer.write([3]);
  await until(() => flushes.length === 2);
  const fourth = writer.write([4]);
  await new Promise((r) => setTimeout(r, 5));
  const releasedAt = Date.now();
  gates.shift()!();
  await until(() => flushes.length === 3);
  t.same(flushes.map((f) => f.items), [[1, 2], [3], [4]]);
  t.ok(flushes[2].at - releasedAt < 40, `flushed ${flushes[2].at - releasedAt} ms after the previous flush ended`);
  gates.shift()!();
  await Promise.all([third, fourth]);
});
