// A login per service on the local PostgreSQL (npm start): the service roles the migrations
// create and grant (platform/database-roles.ts) get LOGIN and a password generated at the first
// start, kept under <dataDir>/security/credentials/<service>.json like the Kafka principals'.
// Each service process then gets a DATABASE_URL of its own and reaches only its tables.
import pg from 'pg';
import { databaseClientConfig } from '../platform/database-connection.js';
import { DATABASE_SERVICES, databaseRoleName, type DatabaseService } from '../platform/database-roles.js';
import type { LocalPostgres } from './local-postgres.js';
import { newLogin, readLogin, writeLogin } from './postgres-security.js';
import { scramSha256Verifier } from './scram-verifier.js';

/**
 * Gives every service role a login (the schema must be migrated first: the migration creates
 * the roles) and returns each service's DATABASE_URL.
 */
export async function ensureServiceLogins(postgres: LocalPostgres): Promise<Record<DatabaseService, string>> {
  const urls = {} as Record<DatabaseService, string>;
  const client = new pg.Client(databaseClientConfig(postgres.url, { application_name: 'lgsp-stack-setup' }));
  await client.connect();
  try {
    for (const service of DATABASE_SERVICES) {
      const role = databaseRoleName(service);
      const existing = await readLogin(postgres.dataDir, service);
      const login = existing?.username === role ? existing : newLogin(role);
      if (login !== existing) await writeLogin(postgres.dataDir, service, login);
      // Every start: the stored password is the one the server holds, even after a restore.
      await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} LOGIN PASSWORD ${client.escapeLiteral(scramSha256Verifier(login.password))}`);
      urls[service] = postgres.urlFor(login);
    }
  } finally {
    await client.end();
  }
  return urls;
}
