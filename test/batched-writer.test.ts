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
