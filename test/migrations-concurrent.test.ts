// Replicas starting together on a fresh database: each applies the migrations under one advisory
// lock, so the others wait for it instead of failing ("Another migration is already running"),
// which crashed every replica but one at a stack start (seen by the fault proof, npm run chaos).
import t from 'tap';
import pg from 'pg';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import { migrateDatabase } from '../services/platform/migrations.js';
import { createTestDatabase } from './helpers/test-database.js';

t.test('four replicas migrating one fresh database at once all succeed', async (t) => {
  const database = await createTestDatabase('migrate-together');
  t.teardown(() => database.drop());
  const results = await Promise.allSettled(Array.from({ length: 4 }, () => migrateDatabase(database.url)));
  t.same(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), [], 'no replica failed');
  const client = new pg.Client(databaseClientConfig(database.url));
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query<{ name: string; n: string }>('SELECT name, count(*) AS n FROM pgmigrations GROUP BY name HAVING count(*) > 1');
  t.same(rows, [], 'each migration applied once');
});
