// A database role per service: the owner migrates (creating the roles and their grants), each
// service logs in as its own role and reaches only its tables. Real logins with passwords over
// TLS on a throwaway local server of this file's own (the shared one may use trust auth).
import t from 'tap';
import pg from 'pg';
import { startLocalPostgres } from '../services/local-postgres/local-postgres.js';
import { ensureServiceLogins } from '../services/local-postgres/service-logins.js';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import { openDatabase } from '../services/platform/database.js';
import { migrateDatabase } from '../services/platform/migrations.js';
import { DATABASE_SERVICES, databaseRoleName } from '../services/platform/database-roles.js';
import { withDatabase } from './helpers/test-database.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { runDbCommand } from '../services/cli/db-command.js';

const server = await startLocalPostgres();
t.teardown(() => server.stop());
await migrateDatabase(server.url);
const urls = await ensureServiceLogins(server);

async function as<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(databaseClientConfig(url));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
const run = (url: string, sql: string) => as(url, (c) => c.query(sql)).then(() => 'ok', (err: { code?: string }) => err.code ?? String(err));

t.test('every table is granted to the services that use it, and to no other', async (t) => {
  const { tables, granted, roles } = await as(server.url, async (c) => ({
    tables: (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('pgmigrations', 'platform_role_grants') ORDER BY 1")).rows.map((r) => r.t),
    granted: (await c.query<{ t: string }>('SELECT DISTINCT table_name AS t FROM platform_role_grants ORDER BY 1')).rows.map((r) => r.t),
    roles: (await c.query<{ r: string }>("SELECT rolname AS r FROM pg_roles WHERE rolname LIKE 'lgsp\\_%' ORDER BY 1")).rows.map((r) => r.r),
  }));
  // A migration adding a table without rows in platform_role_grants fails here: under its own
  // role no service could use the table.
  t.same(tables.filter((x) => !granted.includes(x)), [], 'no table is left without a role');
  t.same(granted.filter((x) => x !== 'pgmigrations' && !tables.includes(x)), [], 'no grant names a table that does not exist');
  for (const s of DATABASE_SERVICES) t.ok(roles.includes(databaseRoleName(s)), `${databaseRoleName(s)} exists`);
});

t.test('the gateway cannot write the audit chain or what only the ledger writes (42501)', async (t) => {
  const gw = urls.gateway;
  t.equal(await run(gw, "INSERT INTO audit_entries (seq, event_id, event, at, recorded_at, body, prev_hash, hash) VALUES (1, 'e', 'accepted', 'a', 'r', '{}', 'p', 'h')"), '42501', 'no insert into the audit chain');
  t.equal(await run(gw, "INSERT INTO audit_checkpoints (seq, hash, signed_at, jws) VALUES (1, 'h', 's', 'j')"), '42501', 'no forged checkpoint');
  t.equal(await run(gw, 'SELECT count(*) FROM audit_entries'), '42501', 'not even a read of the audit chain');
  t.equal(await run(gw, "UPDATE runner_delivered SET announced = true"), '42501', "no update of the runner's delivery ledger");
  t.equal(await run(gw, "UPDATE console_meta SET value = 'x'"), '42501', "nothing of the console's own state");
  t.equal(await run(gw, 'DELETE FROM connector_state_entries'), '42501', "nothing of the connectors' state");
  t.equal(await run(gw, "INSERT INTO gateway_assertion_jti VALUES ('c', 'j1', now() + interval '5 minutes')"), 'ok', 'its own tables it writes');
  t.equal(await run(gw, "INSERT INTO document_inbox_acks (id, acked_at) VALUES ('i1', 'now')"), 'ok', 'and the inbox acknowledgements it records');
  t.equal(await run(gw, 'CREATE TABLE gateway_extra (x int)'), '42501', 'no DDL: the owner migrates');
  t.equal(await run(gw, 'SELECT platform_apply_role_grants()'), '42501', 'nor the grants');
  t.equal(await run(gw, "INSERT INTO platform_role_grants VALUES ('lgsp_gateway', 'audit_entries', 'INSERT')"), '42501', 'nor can it grant itself more');
});

t.test('the others reach only theirs', async (t) => {
  t.equal(await run(urls.audit, "INSERT INTO audit_checkpoints (seq, hash, signed_at, jws) VALUES (1, 'h', 's', 'j')"), 'ok', 'audit appends (its sequence granted too)');
  t.equal(await run(urls.audit, "UPDATE audit_checkpoints SET hash = 'x'"), '42501', 'audit cannot rewrite its own chain');
  t.equal(await run(urls.audit, 'SELECT count(*) FROM console_messages'), '42501', 'audit reads no status store');
  t.equal(await run(urls.console, "INSERT INTO gateway_idempotency (client_id, key, body_digest, message_id, expires_at) VALUES ('c', 'k', 'd', 'm', now())"), '42501', "console cannot write the gateway's idempotency keys");
  t.equal(await run(urls.gateway, 'SELECT count(*) FROM console_dead_letters'), '42501', "the gateway reads no dead letter");
  t.equal(await run(urls.console, "INSERT INTO audit_entries (seq, event_id, event, at, recorded_at, body, prev_hash, hash) VALUES (1, 'e', 'x', 'a', 'r', '{}', 'p', 'h')"), '42501', 'nor the audit chain');
  t.equal(await run(urls.console, "INSERT INTO console_meta (key, value) VALUES ('k', 'v')"), 'ok', 'console writes its own tables');
  // The console reads the message index; the ledger and the gateways write it.
  t.equal(await run(urls.console, 'SELECT count(*) FROM console_messages, console_message_events'), 'ok', 'console reads the message index');
  t.equal(await run(urls.console, "UPDATE console_messages SET status = 'delivered'"), '42501', 'but cannot change a message status');
  t.equal(await run(urls.console, "INSERT INTO console_message_events (event_id, message_id, event, at) VALUES ('e', 'm', 'delivered', 'a')"), '42501', 'nor add a step to a timeline');
  t.equal(await run(urls.runner, "INSERT INTO audit_checkpoints (seq, hash, signed_at, jws) VALUES (1, 'h', 's', 'j')"), '42501', 'runner cannot write the audit chain');
  t.equal(await run(urls.runner, 'DELETE FROM gateway_idempotency'), '42501', "nor the gateway's idempotency keys");
  t.equal(await run(urls.portal, 'SELECT count(*) FROM document_documents'), '42501', 'the mock portal sees no document');
});

t.test('a service role starts on a migrated database and refuses, clearly, to migrate one', async (t) => {
  const db = await openDatabase(urls.gateway);
  t.equal((await db.query('SELECT count(*)::int AS n FROM console_messages')).rows[0].n, 0, 'up to date: it opens without DDL rights');
  await db.close();

  await as(server.url, (c) => c.query('CREATE DATABASE unmigrated'));
  const refused = await openDatabase(withDatabase(urls.gateway, 'unmigrated')).catch((err: unknown) => err);
  t.match((refused as Error).message, /role "lgsp_gateway" may not apply the \d+ pending schema migration\(s\) .*lgsp db migrate/, 'pending migrations: it says who must apply them');
  t.notMatch((refused as Error).message, new URL(urls.gateway).password, 'without the password');
});

t.test('lgsp db migrate: the owner applies migrations and grants; a service role may not', async (t) => {
  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  await as(server.url, (c) => c.query('CREATE DATABASE by_cli'));
  t.equal(await runDbCommand(['migrate', '--database', withDatabase(server.url, 'by_cli')], out), 0, lines.join('\n'));
  t.match(lines.join('\n'), /schema up to date; grants applied to lgsp_audit, lgsp_console, lgsp_gateway, lgsp_portal, lgsp_runner/);
  t.match(lines.join('\n'), /^applied migration 20261201000000_gateway-messages$/m, 'it names what it applied');
  lines.length = 0;
  t.equal(await runDbCommand(['migrate', '--database', withDatabase(server.url, 'by_cli')], out), 0);
  t.notMatch(lines.join('\n'), /applied migration/, 'and, run again, that nothing was');
  t.equal(await run(withDatabase(urls.audit, 'by_cli'), "INSERT INTO audit_checkpoints (seq, hash, signed_at, jws) VALUES (1, 'h', 's', 'j')"), 'ok', 'the roles hold their grants there');

  lines.length = 0;
  await as(server.url, (c) => c.query('CREATE DATABASE by_service'));
  t.equal(await runDbCommand(['migrate', '--database', withDatabase(urls.console, 'by_service')], out), 1, 'a service role cannot migrate');
  t.match(lines.join('\n'), /role "lgsp_console" may not apply/);

  lines.length = 0;
  t.equal(await runDbCommand(['migrate', '--database', `${server.url.split('?')[0]}?sslmode=prefer`], out), 1, 'a bad TLS setting');
  t.match(lines.join('\n'), /sslmode=prefer is not supported/);
  t.equal(await runDbCommand(['upgrade'], out), 2, 'an unknown subcommand is a usage error');
});

t.test('end to end over TLS with the gateway and the runner under their own roles', async (t) => {
  const bus = await startTestBus(t, { name: 'roles', databaseServer: server.url, serviceRoles: true });
  const sender = bus.client('so-tttt-qlvb');
  const submitted = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp', body: 'Kính gửi.' } });
  t.equal(submitted.status, 202, 'accepted (the gateway wrote its status row as lgsp_gateway)');
  const view = await eventually(async () => {
    const r = await sender.status(submitted.body.id);
    return r.body.status === 'delivered' ? r.body : null;
  });
  t.same(view.events.map((e: { event: string }) => e.event), ['accepted', 'delivered'], 'delivered: the runner and its ledger wrote as lgsp_runner');
  const sessions = await as(server.url, (c) =>
    c.query<{ usename: string; ssl: boolean }>('SELECT DISTINCT a.usename, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1 ORDER BY 1', [bus.database.name]),
  );
  t.ok(sessions.rows.some((r) => r.usename.endsWith('_gateway')) && sessions.rows.some((r) => r.usename.endsWith('_runner')), 'the services held sessions as their own logins');
  t.ok(sessions.rows.every((r) => r.ssl), 'every session over TLS');
});
