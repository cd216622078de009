// The console's state in the shared PostgreSQL: the message index (written from lgsp.events by
// the ledger, services/ledger) and the dead letters (from lgsp.dlq.*). It also holds a store id:
// the console's dead-letter consumer group is named after it, so a fresh database reads the
// topics from the beginning and rebuilds, while a restarted console (or a second console on the
// same database) resumes where the group stopped.
import { randomUUID } from 'node:crypto';
import type { Database } from '../platform/database.js';
import { MessageIndex } from './message-index.js';
import { DeadLetterStore } from './dead-letter-store.js';

export class ConsoleStore {
  private constructor(
    readonly messages: MessageIndex,
    readonly deadLetters: DeadLetterStore,
    readonly storeId: string,
  ) {}

  static async open(db: Database): Promise<ConsoleStore> {
    await db.query("INSERT INTO console_meta (key, value) VALUES ('store_id', $1) ON CONFLICT DO NOTHING", [randomUUID().slice(0, 8)]);
    const { rows } = await db.query<{ value: string }>("SELECT value FROM console_meta WHERE key = 'store_id'");
    return new ConsoleStore(new MessageIndex(db), new DeadLetterStore(db), rows[0].value);
  }
}
