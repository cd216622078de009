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
import { join } from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { PROJECT_ROOT } from './project-root.js';

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'services', 'platform', 'migrations');

export async function migrateDatabase(databaseUrl: string): Promise<void> {
  // Our own client, not node-pg-migrate's: it ends its client without waiting, and a server
  // shutting down meanwhile (a test stopping its server, a failover) sends that half-closed
  // connection an error nobody listens to, which crashed the process. Here it is listened to,
  // and the end is awaited.
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'lgsp-migrations' });
  client.on('error', () => {});
  await client.connect();
  try {
    await migrateWith(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function migrateWith(dbClient: pg.Client): Promise<void> {
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
