// A fresh PostgreSQL database per test bus, on the server in DATABASE_URL (started by
// with-kafka.ts for `npm test`), so test files running in parallel never see each other's rows.
// Dropped again on teardown.
import pg from 'pg';
import { databaseClientConfig } from '../../services/platform/database-connection.js';

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
  url: string;
  name: string;
  drop(): Promise<void>;
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
  return {
    url: withDatabase(server, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client(databaseClientConfig(server));
      await c.connect();
      try {
        // WITH (FORCE): a pool someone forgot to close must not keep the database alive.
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
