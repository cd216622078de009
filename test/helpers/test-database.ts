// A fresh PostgreSQL database per test bus, on the server in DATABASE_URL (started by
// with-kafka.ts for `npm test`), so test files running in parallel never see each other's rows.
// Dropped again on teardown.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { databaseClientConfig } from '../../services/platform/database-connection.js';
import { databaseRoleName, type DatabaseService } from '../../services/platform/database-roles.js';
import { openDatabase, type Database } from '../../services/platform/database.js';

export function databaseServerUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run tests with `npm test`, which starts PostgreSQL');
  return url;
}

/** The URL of `database` on the same server as `url` (its login and TLS settings kept). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  /** The owner's URL (the server's login): migrations run with it. */
  url: string;
  name: string;
  /**
   * A login of its own for `service`, member of the service's role (so it holds exactly that
   * role's grants), and its URL on this database. The database must be migrated first (the
   * migration creates the roles). Dropped with the database.
   */
  serviceUrl(service: DatabaseService): Promise<string>;
  drop(): Promise<void>;
}

/** `url` with another user and password (same server, database and TLS settings). */
export function withLogin(url: string, username: string, password: string): string {
  const u = new URL(url);
  u.username = username;
  u.password = password;
  return u.toString();
}

export async function createTestDatabase(label: string, serverUrl?: string): Promise<TestDatabase> {
  const server = serverUrl ?? databaseServerUrl();
  const name = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const admin = new pg.Client(databaseClientConfig(server));
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  let dropped = false;
  const url = withDatabase(server, name);
  // Logins are server-wide: named after the database so parallel test files never share one.
  const logins: string[] = [];
  return {
    url,
    name,
    async serviceUrl(service) {
      const login = `${name}_${service}`;
      const password = randomBytes(16).toString('hex');
      const c = new pg.Client(databaseClientConfig(url));
      await c.connect();
      try {
        await c.query(`create role ${login} login password '${password}' in role ${databaseRoleName(service)}`);
        logins.push(login);
      } finally {
        await c.end();
      }
      return withLogin(url, login, password);
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client(databaseClientConfig(server));
      await c.connect();
      try {
        // A pool just closed may still be leaving: pg's pool.end() resolves before the server has
        // seen each connection go, and WITH (FORCE) then killed a connection in its goodbye, whose
        // error (57P01) surfaced in the test (audit-verify-nothing-signed, under load). Up to 1 s
        // for them to go; WITH (FORCE) is for a pool someone forgot to close.
        for (let wait = 0; wait < 20; wait++) {
          const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await c.query(`drop database if exists ${name} with (force)`);
        for (const login of logins) await c.query(`drop role if exists ${login}`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A fresh database, migrated and opened as the services open theirs; closed and dropped on teardown. */
export async function openTestDatabase(t: { teardown(fn: () => unknown): void }, label: string): Promise<Database> {
  const database = await createTestDatabase(label);
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  return db;
}
