// Versioned schema migrations, applied by node-pg-migrate when a service first opens the
// database (database.ts). node-pg-migrate holds an advisory lock while it migrates, so replicas
// starting together apply each migration exactly once, and records what ran in `pgmigrations`.
//
// How a module adds its tables: put one SQL file in services/platform/migrations/ named
//   <UTC timestamp YYYYMMDDHHmmss>_<module>-<what>.sql     e.g. 20261201000000_gateway-messages.sql
// with a `-- Up Migration` section and a `-- Down Migration` section. Never edit a migration
// that has shipped: add a new one. Table names start with the owning module (gateway_,
// document_, runner_, audit_, console_, portal_...) so modules never collide. The timestamp
// prefix keeps migrations written on parallel branches from sharing a name; their order only
// matters within a module, so out-of-order application is allowed (checkOrder: false).
// A migration that creates a table also says which service roles reach it and how: rows in
// platform_role_grants, then `SELECT platform_apply_role_grants();` (see
// 20261201002000_platform-service-roles.sql). A table no role is granted is a table no service
// running under its own role can use (test/database-roles.test.ts checks every table has one).
//
// Who applies them: the schema owner. With one DATABASE_URL for every service (simple
// deployments, tests) that is every service, at start. With a role per service, the services
// cannot create tables: the owner applies migrations first (`lgsp db migrate`, or the stack
// before it starts the services), and a service finding migrations pending says so and stops.
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from './project-root.js';
import { databaseClientConfig, explainConnectionError } from './database-connection.js';
import { ConfigError } from './config.js';

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'services', 'platform', 'migrations');

/** Applies the pending migrations; returns their names (none: the schema was up to date). */
export async function migrateDatabase(databaseUrl: string): Promise<string[]> {
  // Our own client, not node-pg-migrate's: it ends its client without waiting, and a server
  // shutting down meanwhile (a test stopping its server, a failover) sends that half-closed
  // connection an error nobody listens to, which crashed the process. Here it is listened to,
  // and the end is awaited.
  const client = new pg.Client(databaseClientConfig(databaseUrl, { application_name: 'lgsp-migrations' }));
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw explainConnectionError(err, databaseUrl);
  }
  try {
    const pending = await pendingMigrations(client);
    // Up to date: nothing to lock or create, so a service role without DDL rights starts too.
    if (pending.length === 0) return [];
    try {
      await migrateWith(client);
    } catch (err) {
      throw await notOwnerError(client, pending, err);
    }
    return pending.sort();
  } finally {
    await client.end().catch(() => {});
  }
}

/** The migration files not yet recorded in pgmigrations (all of them on a fresh database). */
async function pendingMigrations(client: pg.Client): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => ['.sql', '.js'].includes(extname(f)))
    .map((f) => f.slice(0, -extname(f).length));
  let applied: Set<string>;
  try {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM pgmigrations');
    applied = new Set(rows.map((r) => r.name));
  } catch (err) {
    // No table yet: a fresh database. Anything else (no privilege to read it) is the runner's to report.
    if ((err as { code?: string }).code !== '42P01') return files;
    applied = new Set();
  }
  return files.filter((f) => !applied.has(f)).sort();
}

/** A permission failure while migrating, explained: this role is a service's, not the owner's. */
async function notOwnerError(client: pg.Client, pending: string[], err: unknown): Promise<unknown> {
  const text = `${(err as Error)?.message ?? ''} ${((err as { cause?: Error })?.cause?.message) ?? ''}`;
  if ((err as { code?: string })?.code !== '42501' && !/permission denied|must be owner/i.test(text)) return err;
  const role = await client.query<{ role: string }>('SELECT current_user AS role').then((r) => r.rows[0]?.role, () => '?');
  return new ConfigError(
    `PostgreSQL role "${role}" may not apply the ${pending.length} pending schema migration(s) (${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', …' : ''}): ` +
      'it is a service role, not the schema owner. Apply them as the owner first (`lgsp db migrate` with the owner\'s DATABASE_URL), then start the service.',
    { cause: err },
  );
}

async function migrateWith(dbClient: pg.Client): Promise<void> {
  // Loaded only when something is pending: node-pg-migrate brings jiti (its TypeScript loader)
  // and glob, 3.6 MB of heap that would stay in every service for its life, while a service
  // starting on an up-to-date schema (every start after the first) needs none of it.
  const { runner } = await import('node-pg-migrate');
  await runner({
    dbClient,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: false,
    // Replicas started together (npm start, a rollout) must wait for the one migrating, not
    // crash: node-pg-migrate's default lock mode fails when the lock is taken.
    advisoryLockMode: 'wait',
    // Each migration file commits on its own; a failing one stops the start with its error.
    singleTransaction: false,
    log: () => {},
    verbose: false,
  });
}
