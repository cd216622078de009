// The console's SQLite file: the message index (from lgsp.events) and the dead letters (from
// lgsp.dlq.*). It also holds a store id: the console's consumer group is named after it, so a
// fresh store (deleted file, new machine) reads the topics from the beginning and rebuilds,
// while a restarted console resumes where it stopped.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { MessageIndex } from './message-index.js';
import { DeadLetterStore } from './dead-letter-store.js';
import { openSqlite } from '../platform/sqlite-file.js';

export class ConsoleStore {
  readonly db: Database.Database;
  readonly messages: MessageIndex;
  readonly deadLetters: DeadLetterStore;
  readonly storeId: string;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.db.prepare("INSERT OR IGNORE INTO meta VALUES ('store_id', ?)").run(randomUUID().slice(0, 8));
    this.storeId = (this.db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string }).value;
    this.messages = new MessageIndex(this.db);
    this.deadLetters = new DeadLetterStore(this.db);
  }

  close(): void {
    this.db.close();
  }
}
