// The pull inbox as the gateway serves it (GET /v1/inbox): messages the runtime deposited for
// systems that poll, until the system acknowledges them. Kafka's lgsp.inbox topic is the
// record; this SQLite table is the gateway's queryable copy, rebuilt from the topic if lost.
// An acknowledged item keeps its row (acked_at set) so a late duplicate deposit of the same
// message id cannot bring it back.
import Database from 'better-sqlite3';
import type { Envelope } from '../platform/envelope.js';
import { openSqlite } from '../platform/sqlite-file.js';

export interface InboxItem {
  cursor: number;
  id: string;
  system: string;
  type: string;
  depositedAt: string;
  ackedAt: string | null;
  envelope: Envelope<Record<string, unknown>>;
}

interface Row {
  cursor: number;
  id: string;
  system: string;
  type: string;
  depositedAt: string;
  ackedAt: string | null;
  envelope: string;
}

const toItem = (row: Row): InboxItem => ({ ...row, envelope: JSON.parse(row.envelope) as Envelope<Record<string, unknown>> });

export class InboxStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS inbox (
        cursor INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, system TEXT NOT NULL, type TEXT NOT NULL,
        deposited_at TEXT NOT NULL, acked_at TEXT, envelope TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS inbox_waiting ON inbox (system, acked_at, cursor);
      CREATE TABLE IF NOT EXISTS inbox_acks (id TEXT PRIMARY KEY, acked_at TEXT NOT NULL);
    `);
    const columns = 'cursor, id, system, type, deposited_at AS depositedAt, acked_at AS ackedAt, envelope';
    this.statements = {
      deposit: this.db.prepare(`INSERT OR IGNORE INTO inbox (id, system, type, deposited_at, acked_at, envelope)
        VALUES (?, ?, ?, ?, (SELECT acked_at FROM inbox_acks WHERE id = ?), ?)`),
      get: this.db.prepare(`SELECT ${columns} FROM inbox WHERE id = ?`),
      list: this.db.prepare(`SELECT ${columns} FROM inbox WHERE system = @system AND acked_at IS NULL AND cursor > @after
        AND (@type IS NULL OR type = @type OR (substr(@type, -2) = '.*' AND type LIKE substr(@type, 1, length(@type) - 1) || '%'))
        ORDER BY cursor LIMIT @limit`),
      ack: this.db.prepare('UPDATE inbox SET acked_at = ? WHERE id = ? AND acked_at IS NULL'),
      rememberAck: this.db.prepare('INSERT OR IGNORE INTO inbox_acks VALUES (?, ?)'),
    };
  }

  /** Idempotent: a message id is deposited once, and stays acknowledged once acknowledged. */
  deposit(envelope: Envelope, system: string, depositedAt: string): void {
    this.statements.deposit.run(envelope.id, system, envelope.type, depositedAt, envelope.id, JSON.stringify(envelope));
  }

  get(id: string): InboxItem | null {
    const row = this.statements.get.get(id) as Row | undefined;
    return row ? toItem(row) : null;
  }

  /** Unacknowledged items of a system, oldest first, after a cursor; `type` may be `edoc.*`. */
  list(system: string, opts: { type?: string; after?: number; limit: number }): InboxItem[] {
    return (this.statements.list.all({ system, type: opts.type ?? null, after: opts.after ?? 0, limit: opts.limit }) as Row[]).map(toItem);
  }

  /** Records an acknowledgement (also one learned from another gateway before the deposit). */
  acknowledge(id: string, at: string): boolean {
    this.statements.rememberAck.run(id, at);
    return this.statements.ack.run(at, id).changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
