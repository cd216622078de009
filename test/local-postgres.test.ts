// The project's own PostgreSQL (services/local-postgres) and the shared database module: a
// throwaway server of its own here (not DATABASE_URL), so stopping it hurts no other test.
import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startLocalPostgres } from '../services/local-postgres/local-postgres.js';
import { openDatabase, isDatabaseUnavailable, DatabaseUnavailableError } from '../services/platform/database.js';
import { MIGRATIONS_DIR } from '../services/platform/migrations.js';
import { databaseStatementTotals } from '../services/platform/database-statement-counts.js';
import { prepared } from '../services/platform/prepared-statement.js';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import { withDatabase } from './helpers/test-database.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('starts, migrates, survives a restart on its port and data, stops only its own server', async (t) => {
  const server = await startLocalPostgres();
  t.teardown(() => server.stop());
  const pid = server.pid!;
  t.ok(pid > 0 && alive(pid), 'postmaster running');
  // Secured by default: the owner's generated password, TLS verified against the server's own CA.
  t.match(server.url, /^postgres:\/\/lgsp:[0-9a-f]{48}@127\.0\.0\.1:\d+\/lgsp\?sslmode=verify-full&sslrootcert=/);
  t.notMatch(server.displayUrl, /[0-9a-f]{48}/, 'the display URL hides the password');

  // Two openers in one process share one pool and migrate once.
  const [a, b] = await Promise.all([openDatabase(server.url), openDatabase(server.url)]);
  t.equal(a.pool, b.pool, 'one pool per URL per process');
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();
  const ran = (await a.query<{ name: string }>('select name from pgmigrations order by name')).rows.map((r) => r.name);
  t.same(ran, files, 'every migration file applied once');
  await a.query(`insert into gateway_assertion_jti values ('c', 'j1', now() + interval '5 minutes')`);
  await t.rejects(a.query(`insert into gateway_assertion_jti values ('c', 'j1', now())`), { code: '23505' }, 'a real constraint error is not "unavailable"');

  // Every statement is counted for /metrics, per pool; a transaction's begin and commit too.
  const sentOn = (pool: string) => [...databaseStatementTotals()].find(([labels]) => labels.pool === pool)?.[1] ?? 0;
  const before = sentOn('shared');
  await a.query('select 1');
  await a.transaction(async (c) => c.query('select 2'));
  t.equal(sentOn('shared') - before, 4, 'one statement, then begin + statement + commit');

  // A prepared statement is parsed and planned once per connection, then only executed.
  const statement = prepared('select $1::int + 1 as n');
  await a.transaction(async (c) => {
    t.same((await c.query<{ n: number }>(statement, [1])).rows, [{ n: 2 }]);
    t.same((await c.query<{ n: number }>(statement, [2])).rows, [{ n: 3 }], 'run again on the same connection');
    const held = (await c.query<{ name: string }>('select name from pg_prepared_statements')).rows.map((r) => r.name);
    t.same(held.filter((name) => name === statement.name), [statement.name], 'prepared once on that connection, under its name');
  });
  t.same((await a.query<{ n: number }>(statement, [41])).rows, [{ n: 42 }], 'and through the pool');
  t.equal(prepared('select $1::int + 1 as n').name, statement.name, 'the same text gets the same name');

  await server.stopServer();
  t.notOk(alive(pid), 'stopped');
  const down = await a.query('select 1').catch((err: unknown) => err);
  t.ok(down instanceof DatabaseUnavailableError && isDatabaseUnavailable(down), 'queries while down fail as unavailable');
  const inTx = await a.transaction(async (c) => c.query('select 1')).catch((err: unknown) => err);
  t.ok(inTx instanceof DatabaseUnavailableError, 'transactions too');

  await server.startServer();
  const { rows } = await b.query<{ n: number }>(`select count(*) as n from gateway_assertion_jti`);
  t.equal(rows[0].n, 1, 'data kept across the restart; the pool reconnects by itself');
  await a.close();
  await b.close();

  // A fresh database on the same server migrates on its first open.
  const admin = new pg.Client(databaseClientConfig(server.url));
  await admin.connect();
  await admin.query('create database second');
  await admin.end();
  const second = await openDatabase(withDatabase(server.url, 'second'));
  t.equal((await second.query('select * from console_messages')).rowCount, 0, 'tables exist');
  await second.close();

  const dir = server.dataDir;
  await server.stop();
  t.notOk(existsSync(dir), 'temp data dir removed');
});

t.test('a cluster from before passwords gets its owner password at its next start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-pg-legacy-'));
  chmodSync(dataDir, 0o755); // the postgres user (when we run as root) must reach its data dir
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startLocalPostgres({ dataDir, throwaway: true });
  await first.stop();
  // The server's log names refused statements and the values their errors quote: the owner's alone.
  const logMode = () => (statSync(join(dataDir, 'postgres.log')).mode & 0o777).toString(8);
  t.equal(logMode(), '600', 'the server log is 0600');
  chmodSync(join(dataDir, 'postgres.log'), 0o644);
  // What a data dir made before this looked like: a cluster, and no stored owner password.
  rmSync(join(first.credentialsDir, 'owner.json'));
  const again = await startLocalPostgres({ dataDir, throwaway: true });
  t.teardown(() => again.stop());
  t.equal(logMode(), '600', 'a server log left wider is narrowed again at the next start');
  t.not(new URL(again.url).password, new URL(first.url).password, 'a new owner password');
  const db = await openDatabase(again.url);
  t.equal((await db.query('select 1 as one')).rows[0].one, 1, 'and it logs in with it');
  await db.close();
  const u = new URL(again.url);
  u.password = 'not-the-password';
  const open = new pg.Client(databaseClientConfig(u.toString()));
  t.equal(await open.connect().then(() => 'connected', (err: { code?: string }) => err.code), '28P01', 'no trust left behind: a wrong password is refused');
  await open.end().catch(() => undefined);
});

t.test('a missing DATABASE_URL is named at start', async (t) => {
  await t.rejects(openDatabase(''), /DATABASE_URL is not set/);
});
