// The runners' delivered ledger keeps a delivery for LGSP_RUNNER_DELIVERED_RETENTION_DAYS and no
// longer (delivered-ledger-retention.ts): rows past it are deleted in bounded statements, under
// the runner's own database role, while newer deliveries keep guarding against a second delivery.
import t, { type Test } from 'tap';
import { migrateDatabase } from '../services/platform/migrations.js';
import { openDatabase, type Database } from '../services/platform/database.js';
import { DeliveryLedger } from '../services/runner/delivery-ledger.js';
import { pruneDeliveredBefore, startDeliveredLedgerRetention } from '../services/runner/delivered-ledger-retention.js';
import { loadConfig } from '../services/platform/config.js';
import { createLogger } from '../services/platform/logger.js';
import { createTestDatabase } from './helpers/test-database.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A migrated database opened as a runner opens it (its own role), with `old` deliveries made `ageDays` ago and `fresh` ones now. */
async function ledgerDatabase(t: Test, rows: { old: string[]; ageDays: number; fresh: string[] }): Promise<{ db: Database; ledger: DeliveryLedger }> {
  const database = await createTestDatabase('delivered-retention');
  t.teardown(() => database.drop());
  await migrateDatabase(database.url);
  const owner = await openDatabase(database.url);
  await owner.query(
    `INSERT INTO runner_delivered (connector, message_id, delivered_at, announced) SELECT 'relay', unnest($1::text[]), now() - make_interval(days => $2), true`,
    [rows.old, rows.ageDays],
  );
  await owner.close();
  const db = await openDatabase(await database.serviceUrl('runner'));
  t.teardown(() => db.close());
  const ledger = new DeliveryLedger(db, 'relay');
  await ledger.markDeliveredMany(rows.fresh.map((id) => ({ id })));
  return { db, ledger };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

t.test('rows delivered before the cutoff are deleted, in statements of bounded size; newer ones stay', async (t) => {
  const old = ids('old', 7);
  const fresh = ids('fresh', 3);
  const { db, ledger } = await ledgerDatabase(t, { old, ageDays: 40, fresh });
  const deleted = await pruneDeliveredBefore(db, new Date(Date.now() - 30 * DAY_MS), 3);
  t.equal(deleted, 7, 'every row past the cutoff, three per statement');
  t.same([...(await ledger.lookupMany([...old, ...fresh])).keys()].sort(), fresh, 'the recent deliveries still guard against a second delivery');
  t.equal(await pruneDeliveredBefore(db, new Date(Date.now() - 30 * DAY_MS), 3), 0, 'a second pass finds nothing');
});

t.test('the runner prunes on its own at every interval; retention 0 keeps everything', async (t) => {
  const log = createLogger('test', 'silent');
  const kept = await ledgerDatabase(t, { old: ids('kept', 4), ageDays: 400, fresh: [] });
  const keepAll = startDeliveredLedgerRetention({ db: kept.db, retentionDays: 0, log, intervalMs: 20 });
  const pruned = await ledgerDatabase(t, { old: ids('old', 4), ageDays: 2, fresh: ids('fresh', 2) });
  const retention = startDeliveredLedgerRetention({ db: pruned.db, retentionDays: 1, log, intervalMs: 20 });
  t.teardown(async () => {
    await retention.stop();
    await keepAll.stop();
  });
  const deadline = Date.now() + 10_000;
  let left = await pruned.ledger.lookupMany([...ids('old', 4), ...ids('fresh', 2)]);
  while (left.size > 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = await pruned.ledger.lookupMany([...ids('old', 4), ...ids('fresh', 2)]);
  }
  t.same([...left.keys()].sort(), ids('fresh', 2), 'deliveries older than a day deleted, today\'s kept');
  t.equal((await kept.ledger.lookupMany(ids('kept', 4))).size, 4, 'with retention 0 a 400-day-old delivery stays');
});

t.test('the retention is a setting: 30 days by default, LGSP_RUNNER_DELIVERED_RETENTION_DAYS, 0 allowed, negative refused', async (t) => {
  t.equal(loadConfig({}, {}).runnerDeliveredRetentionDays, 30);
  t.equal(loadConfig({}, { LGSP_RUNNER_DELIVERED_RETENTION_DAYS: '90' }).runnerDeliveredRetentionDays, 90);
  t.equal(loadConfig({}, { LGSP_RUNNER_DELIVERED_RETENTION_DAYS: '0' }).runnerDeliveredRetentionDays, 0);
  t.throws(() => loadConfig({}, { LGSP_RUNNER_DELIVERED_RETENTION_DAYS: '-1' }));
});
