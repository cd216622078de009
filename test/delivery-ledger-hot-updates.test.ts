// The delivered ledger's rows are updated once each (announced) soon after they are inserted:
// on half-full pages (the table's fillfactor) that update is HOT, so it writes no new entries
// into the table's two indexes. Checked with the transaction's own counters, exact and
// immediate: pg_stat_get_xact_tuples_hot_updated counts this transaction's HOT updates.
import t from 'tap';
import pg from 'pg';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import { migrateDatabase } from '../services/platform/migrations.js';
import { openDatabase } from '../services/platform/database.js';
import { DeliveryLedger } from '../services/runner/delivery-ledger.js';
import { createTestDatabase } from './helpers/test-database.js';

t.test('marking a chunk of deliveries announced is a HOT update of every row', async (t) => {
  const database = await createTestDatabase('ledger-hot');
  t.teardown(() => database.drop());
  await migrateDatabase(database.url);
  const db = await openDatabase(database.url);
  t.teardown(() => db.close());
  const ledger = new DeliveryLedger(db, 'relay');
  // Ten chunks as the runner writes them under load: pages fill up as they would in service.
  const chunks = Array.from({ length: 10 }, (_, c) => Array.from({ length: 200 }, (_, i) => `0193${String(c).padStart(4, '0')}-${String(i).padStart(4, '0')}`));
  for (const ids of chunks) await ledger.markDeliveredMany(ids.map((id) => ({ id })));

  const client = new pg.Client(databaseClientConfig(database.url));
  await client.connect();
  t.teardown(() => client.end());
  await client.query('BEGIN');
  const { rowCount } = await client.query('UPDATE runner_delivered SET announced = true WHERE connector = $1 AND NOT announced', ['relay']);
  const { rows } = await client.query<{ updated: string; hot: string }>(
    `SELECT pg_stat_get_xact_tuples_updated('runner_delivered'::regclass) AS updated,
            pg_stat_get_xact_tuples_hot_updated('runner_delivered'::regclass) AS hot`,
  );
  await client.query('ROLLBACK');
  t.equal(rowCount, 2000, 'every delivery marked announced');
  t.equal(Number(rows[0].updated), 2000);
  t.equal(Number(rows[0].hot), 2000, 'no update wrote index entries');

  const states = await ledger.lookupMany([chunks[3][7], 'never-delivered']);
  t.same([...states], [[chunks[3][7], 'unannounced']], 'the ledger reads as before');
});
