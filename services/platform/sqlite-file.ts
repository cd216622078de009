// Opens an embedded SQLite store the way every service wants it: the folder created, WAL so
// readers never block the writer, and synchronous=NORMAL (durable across process crashes; a
// power cut may lose the last commits, which Kafka still holds and replays) unless a store
// asks for FULL (the audit log).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function openSqlite(file: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  return db;
}
