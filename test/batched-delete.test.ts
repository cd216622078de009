// Rows that expire are deleted a bounded number per statement (batched-delete.ts): the helper
// itself, and the gateway's sweep of expired Idempotency-Keys under its own database role
// (the runners' delivered ledger: delivered-ledger-retention.test.ts).
import t from 'tap';
import type { Database } from '../services/platform/database.js';
import { deleteInBatches } from '../services/platform/batched-delete.js';
import { migrateDatabase } from '../services/platform/migrations.js';
import { openDatabase } from '../services/platform/database.js';
import { MessageStore } from '../services/gateway/message-store.js';
import { createTestDatabase } from './helpers/test-database.js';

t.test('statements run until one deletes fewer rows than the batch, or until stopped; the batch size is the last parameter', async (t) => {
  const calls: unknown[][] = [];
  const fakeDb = (counts: number[]) => ({ query: async (_sql: string, params: unknown[]) => (calls.push(params), { rowCount: counts.shift() ?? 0, rows: [] }) }) as unknown as Database;
  t.equal(await deleteInBatches(fakeDb([3, 3, 1]), 'DELETE …', ['cutoff'], 3), 7);
  t.same(calls, [['cutoff', 3], ['cutoff', 3], ['cutoff', 3]], 'three statements of at most three rows');
  calls.length = 0;
  t.equal(await deleteInBatches(fakeDb([3, 3, 3, 3]), 'DELETE …', [], 3, () => calls.length >= 2), 6, 'stopped after the second statement');
  t.equal(calls.length, 2);
});

t.test('expired keys are deleted in statements of bounded size; valid ones stay', async (t) => {
  const database = await createTestDatabase('idempotency-sweep');
  t.teardown(() => database.drop());
  await migrateDatabase(database.url);
  const owner = await openDatabase(database.url);
  const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const insert = (names: string[], expires: string) =>
    owner.query(
      `INSERT INTO gateway_idempotency (client_id, key, body_digest, message_id, expires_at)
       SELECT 'so-tttt-qlvb', k, 'sha-256=x', 'm-' || k, now() + $2::interval FROM unnest($1::text[]) k`,
      [names, expires],
    );
  await insert(keys('expired', 7), '-1 hour');
  await insert(keys('valid', 3), '23 hours');
  await owner.close();
  const db = await openDatabase(await database.serviceUrl('gateway'));
  t.teardown(() => db.close());
  const store = new MessageStore(db);
  t.equal(await store.sweepIdempotency(3), 7, 'every expired key, three per statement');
  const { rows } = await db.query<{ key: string }>('SELECT key FROM gateway_idempotency ORDER BY key');
  t.same(rows.map((r) => r.key), keys('valid', 3), 'the keys still valid stay');
  t.equal(await store.sweepIdempotency(3), 0, 'a second sweep finds nothing');
});
