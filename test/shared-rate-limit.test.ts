// The counts behind the gateways' shared rate limits (shared-rate-limit.ts), without a bus: fixed
// windows of the clock, whole counts written (never increments), the others' counts added, and a
// PostgreSQL outage that leaves each gateway counting alone, said once. (The real sharing between
// two gateways over PostgreSQL: rate-limit-across-gateways.test.ts.)
import t from 'tap';
import { ClusterRateCounts, WindowCounts } from '../services/gateway/shared-rate-limit.js';
import type { Database } from '../services/platform/database.js';
import type { Logger } from '../services/platform/logger.js';

const MINUTE = 60_000;
const T0 = 1_000 * MINUTE; // the start of a window

t.test('window counts start again with each minute of the clock and keep a bounded number of keys', async (t) => {
  const counts = new WindowCounts(MINUTE, 2);
  t.equal(counts.hit('a', T0), 1);
  t.equal(counts.hit('a', T0 + 59_999), 2, 'the same window up to its last millisecond');
  t.equal(counts.ttl(T0 + 59_000), 1000);
  t.equal(counts.hit('a', T0 + MINUTE), 1, 'a new window counts from one');
  counts.hit('b', T0 + MINUTE);
  counts.hit('c', T0 + MINUTE);
  t.notOk(counts.all(T0 + MINUTE).counts.has('a'), 'past the bound, the oldest key is dropped');
  t.equal(counts.all(T0 + MINUTE).counts.get('c'), 1);
});

t.test('a gateway shares its whole counts, adds the others\', and counts alone while PostgreSQL fails', async (t) => {
  const statements: unknown[][] = [];
  let answer: (() => { rows: unknown[] }) | null = null;
  const db = {
    query: async (_statement: unknown, values: unknown[]) => {
      statements.push(values);
      if (!answer) throw new Error('connection refused');
      return answer();
    },
  } as unknown as Database;
  const warnings: string[] = [];
  const log = { warn: (...args: unknown[]) => void warnings.push(String(args.at(-1))) } as unknown as Logger;
  const counts = new ClusterRateCounts(db, 'gw-1', log, MINUTE);

  await counts.sync(T0);
  t.equal(statements.length, 0, 'nothing counted in the window: nothing to share or read');

  counts.hit('client-a', T0);
  counts.hit('client-a', T0 + 1);
  await counts.sync(T0 + 2);
  await counts.sync(T0 + 3);
  t.equal(counts.hit('client-a', T0 + 4).current, 3, 'PostgreSQL down: the own count goes on');
  t.same(warnings, ['rate-limit counts cannot be shared (PostgreSQL): each client is limited per gateway until they can'], 'said once, not at every sync');

  answer = () => ({ rows: [{ client_id: 'client-a', hits: 5 }] });
  await counts.sync(T0 + 5);
  const [window, gateway, changed] = statements.at(-2)!;
  t.same([window, gateway, JSON.parse(changed as string)], [T0 / MINUTE, 'gw-1', [{ client_id: 'client-a', hits: 3 }]], 'the whole count is written, not an increment');
  t.same(statements.at(-1), [T0 / MINUTE - 1], 'and the windows before the last are deleted');
  t.match(warnings.at(-1), /shared again/);
  t.same(counts.hit('client-a', T0 + 6), { current: 4 + 5, ttl: MINUTE - 6 }, 'its own 4 and the others\' 5');

  await counts.sync(T0 + 7);
  t.same(JSON.parse(statements.at(-1)![2] as string), [{ client_id: 'client-a', hits: 4 }], 'only what grew since the last sync');
  t.equal(counts.hit('client-a', T0 + MINUTE).current, 1, 'the next minute: the others\' counts of the last one are not added');
});
