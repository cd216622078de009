// The gateway's view of message status, fed from lgsp.events (Kafka stays the system of
// record: a new gateway rebuilds this table by reading the topic from the beginning), plus the
// Idempotency-Key table. SQLite keeps it embedded; writes are batched per consumed batch.
import Database from 'better-sqlite3';
import { statusAfter, type BusEvent, type MessageStatus } from '../platform/bus-events.js';
import { openSqlite } from '../platform/sqlite-file.js';
import type { MessageView } from '../platform/gateway-module.js';

export type { MessageView };

export interface IdempotencyRecord {
  bodyDigest: string;
  messageId: string;
}

interface MessageRow {
  id: string;
  type: string;
  from_member: string;
  from_system: string;
  to_member: string;
  to_service: string;
  correlation_id: string;
  status: MessageStatus;
}

export class MessageStore {
  private readonly db: Database.Database;
  private readonly insertMessage: Database.Statement;
  private readonly insertEvent: Database.Statement;
  private readonly updateStatus: Database.Statement;
  private readonly selectMessage: Database.Statement;
  private readonly selectEvents: Database.Statement;
  private readonly selectIdem: Database.Statement;
  private readonly insertIdem: Database.Statement;
  readonly applyEvents: (events: BusEvent[]) => void;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, from_member TEXT NOT NULL, from_system TEXT NOT NULL,
        to_member TEXT NOT NULL, to_service TEXT NOT NULL, correlation_id TEXT NOT NULL,
        status TEXT NOT NULL, accepted_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS message_events (
        event_id TEXT PRIMARY KEY, message_id TEXT NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL, detail TEXT);
      CREATE INDEX IF NOT EXISTS message_events_by_message ON message_events (message_id, at);
      CREATE TABLE IF NOT EXISTS idempotency (
        client_id TEXT NOT NULL, key TEXT NOT NULL, body_digest TEXT NOT NULL, message_id TEXT NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (client_id, key));
    `);
    this.insertMessage = this.db.prepare(
      `INSERT OR IGNORE INTO messages VALUES (@id, @type, @fromMember, @fromSystem, @toMember, @toService, @correlationId, 'accepted', @at)`,
    );
    this.insertEvent = this.db.prepare(`INSERT OR IGNORE INTO message_events VALUES (?, ?, ?, ?, ?)`);
    this.updateStatus = this.db.prepare(`UPDATE messages SET status = ? WHERE id = ?`);
    this.selectMessage = this.db.prepare(`SELECT * FROM messages WHERE id = ?`);
    this.selectEvents = this.db.prepare(`SELECT event, at, detail FROM message_events WHERE message_id = ? ORDER BY at, rowid`);
    this.selectIdem = this.db.prepare(`SELECT body_digest AS bodyDigest, message_id AS messageId FROM idempotency WHERE client_id = ? AND key = ?`);
    this.insertIdem = this.db.prepare(`INSERT OR IGNORE INTO idempotency VALUES (?, ?, ?, ?, ?)`);
    this.applyEvents = this.db.transaction((events: BusEvent[]) => {
      for (const ev of events) this.applyOne(ev);
    });
  }

  private applyOne(ev: BusEvent): void {
    if (!ev.messageId) return;
    if (ev.event === 'accepted' && ev.type && ev.from && ev.to) {
      this.insertMessage.run({
        id: ev.messageId,
        type: ev.type,
        fromMember: ev.from.member,
        fromSystem: ev.from.system,
        toMember: ev.to.member,
        toService: ev.to.service,
        correlationId: ev.correlationId ?? ev.messageId,
        at: ev.at,
      });
    }
    const inserted = this.insertEvent.run(ev.id, ev.messageId, ev.event, ev.at, ev.detail ? JSON.stringify(ev.detail) : null);
    // 'accepted' never overrides a later status that was consumed first.
    const status = statusAfter(ev.event);
    if (inserted.changes > 0 && status && ev.event !== 'accepted') this.updateStatus.run(status, ev.messageId);
  }

  private pending: BusEvent[] = [];

  /**
   * Queues an event and applies the queue in one transaction at the end of this turn of the
   * event loop: one SQLite commit per burst of requests instead of one per request. A client
   * cannot observe the gap — its next request is read after the queue is applied.
   */
  applySoon(ev: BusEvent): void {
    if (this.pending.push(ev) === 1) {
      setImmediate(() => {
        const batch = this.pending;
        this.pending = [];
        this.applyEvents(batch);
      });
    }
  }

  get(id: string): MessageView | null {
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      this.applyEvents(batch);
    }
    const row = this.selectMessage.get(id) as MessageRow | undefined;
    if (!row) return null;
    const events = (this.selectEvents.all(id) as { event: string; at: string; detail: string | null }[]).map((e) => ({
      event: e.event,
      at: e.at,
      ...(e.detail ? { detail: JSON.parse(e.detail) } : {}),
    }));
    return {
      id: row.id,
      type: row.type,
      from: { member: row.from_member, system: row.from_system },
      to: { member: row.to_member, service: row.to_service },
      correlationId: row.correlation_id,
      status: row.status,
      events,
    };
  }

  idempotency(clientId: string, key: string): IdempotencyRecord | null {
    return (this.selectIdem.get(clientId, key) as IdempotencyRecord | undefined) ?? null;
  }

  rememberIdempotency(clientId: string, key: string, rec: IdempotencyRecord): void {
    this.insertIdem.run(clientId, key, rec.bodyDigest, rec.messageId, new Date().toISOString());
  }

  close(): void {
    if (this.pending.length > 0) this.applyEvents(this.pending.splice(0));
    this.db.close();
  }
}
