// The runner's scheduling rules without Kafka: a parked retry holds up nothing, retries run in
// due order whatever order they arrived in, one key runs one record at a time and in order, a
// busy service leaves slots for the others, a record waiting for an earlier message goes when
// that message succeeds; and offsets commit only up to the lowest unfinished record.
import t from 'tap';
import { RecordDispatcher, type Dispatchable } from '../services/runner/record-dispatcher.js';
import { OffsetWatermarks } from '../services/runner/offset-watermarks.js';

interface Item extends Dispatchable {
  name: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function harness(concurrency: number, behaviour: (item: Item) => Promise<boolean> = async () => true) {
  const started: { name: string; at: number }[] = [];
  const began = Date.now();
  const dispatcher = new RecordDispatcher<Item>({
    concurrency,
    lanes: 2,
    run: async (item) => {
      started.push({ name: item.name, at: Date.now() - began });
      return behaviour(item);
    },
  });
  const add = (name: string, extra: Partial<Item> = {}) => dispatcher.add({ name, key: name, lane: 'a', dueAt: 0, ...extra });
  return { dispatcher, started, add, names: () => started.map((s) => s.name) };
}

t.test('a parked retry holds up neither fresh records nor retries due sooner', async (t) => {
  const h = harness(4);
  h.add('retry-late', { dueAt: Date.now() + 400 });
  h.add('retry-soon', { dueAt: Date.now() + 100 });
  h.add('fresh');
  await sleep(20);
  t.same(h.names(), ['fresh'], 'the fresh record ran at once');
  await sleep(150);
  t.same(h.names(), ['fresh', 'retry-soon'], 'the retry due sooner went first');
  await sleep(350);
  t.same(h.names(), ['fresh', 'retry-soon', 'retry-late']);
  const late = h.started[2].at;
  t.ok(late >= 390, `the late retry waited for its due time (${late} ms)`);
});

t.test('one key runs one record at a time, in arrival order', async (t) => {
  let running = 0;
  let most = 0;
  const h = harness(8, async () => {
    most = Math.max(most, ++running);
    await sleep(20);
    running--;
    return true;
  });
  for (const n of ['1', '2', '3']) h.dispatcher.add({ name: n, key: 'same', lane: 'a', dueAt: 0 });
  h.add('other');
  await sleep(120);
  t.same(h.names().filter((n) => n !== 'other'), ['1', '2', '3']);
  t.equal(most, 2, 'the other key ran alongside, never two of the same key');
});

t.test('a service full of slow calls leaves slots for the other services', async (t) => {
  const h = harness(8, async (item) => {
    await sleep(item.lane === 'slow' ? 300 : 1);
    return true;
  });
  for (let i = 0; i < 20; i++) h.add(`slow-${i}`, { lane: 'slow' });
  await sleep(10);
  h.add('lookup', { lane: 'fast' });
  await sleep(50);
  t.ok(h.names().includes('lookup'), 'the other service ran while the slow one waited');
  t.ok(h.names().filter((n) => n.startsWith('slow')).length <= 8, 'at most all slots for the slow service');
});

t.test('a record waiting for an earlier message goes when a record of its key succeeds', async (t) => {
  const h = harness(4);
  const now = Date.now();
  h.add('successor', { key: 'dossier-1', dueAt: now + 10_000, waitsForEarlier: { attemptedAt: now } });
  h.add('unrelated', { key: 'dossier-2', dueAt: now + 10_000, waitsForEarlier: { attemptedAt: now } });
  h.add('plain-retry', { key: 'dossier-1', dueAt: now + 10_000 });
  await sleep(20);
  t.same(h.names(), []);
  h.add('predecessor', { key: 'dossier-1' });
  await sleep(20);
  t.same(h.names(), ['predecessor', 'successor'], 'released by the success; other keys and plain retries keep their backoff');
  // A waiting record that comes back after its predecessor already succeeded goes at once.
  h.add('late-successor', { key: 'dossier-1', dueAt: Date.now() + 10_000, waitsForEarlier: { attemptedAt: now } });
  await sleep(20);
  t.same(h.names(), ['predecessor', 'successor', 'late-successor']);
  h.dispatcher.stop();
  t.equal(h.dispatcher.parkedCount, 0, 'stop forgets parked records');
});

t.test('paused: nothing starts until resume', async (t) => {
  const h = harness(2);
  h.dispatcher.pause();
  h.add('held');
  await sleep(20);
  t.same(h.names(), []);
  h.dispatcher.resume();
  await sleep(10);
  t.same(h.names(), ['held']);
});

t.test('watermarks: commit up to the lowest unfinished offset of each partition', async (t) => {
  const w = new OffsetWatermarks();
  for (const o of ['10', '11', '12']) w.take('retry', 0, o);
  w.take('msg', 1, '5');
  w.finish('retry', 0, '11');
  w.finish('retry', 0, '12');
  w.finish('msg', 1, '5');
  t.same(w.advanced(), [
    { topic: 'retry', partition: 0, offset: '10' },
    { topic: 'msg', partition: 1, offset: '6' },
  ], 'the parked offset 10 holds its partition; the other partition moves on');
  t.same(w.advanced(), [], 'nothing new to commit');
  w.finish('retry', 0, '10');
  t.same(w.advanced(), [{ topic: 'retry', partition: 0, offset: '13' }]);
  t.equal(w.openCount, 0);
});
