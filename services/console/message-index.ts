// The console's own index of bus traffic, fed from lgsp.events: one row per message (its
// latest transport status, its latest business status, the dates a KPI needs) and every event
// of its timeline. It is a read model: Kafka stays the system of record, and a console with an
// empty store rebuilds it by reading the topic from the beginning (see console-service.ts).
// Events may arrive out of order across restarts and redeliveries; every update here is
// idempotent (event ids are unique) and ordered by event time, not by arrival.
import Database from 'better-sqlite3';
import { statusAfter, type BusEvent, type MessageStatus } from '../platform/bus-events.js';
import { businessFacts, familyOf } from './business-status.js';

export interface MessageRow {
  id: string;
  type: string;
  family: string;
  fromMember: string;
  fromSystem: string;
  toMember: string;
  toService: string;
  correlationId: string;
  status: MessageStatus;
  businessStatus: string | null;
  acceptedAt: string | null;
  lastEventAt: string;
  deliveredAt: string | null;
  connector: string | null;
  attempts: number;
  lastReason: string | null;
}

export interface TimelineEvent {
  eventId: string;
  event: string;
  at: string;
  actor: string | null;
  detail: Record<string, unknown> | null;
}

export interface MessageQuery {
  id?: string;
  correlationId?: string;
  member?: string;
  type?: string;
  status?: string;
  from?: string;
  to?: string;
  limit?: number;
  /** Cursor: the `lastEventAt|id` of the last row of the previous page. */
  before?: string;
}

/** Rows the KPI report aggregates: one per message, with the facts of its business thread. */
export interface KpiMessageRow {
  id: string;
  type: string;
  family: string;
  fromMember: string;
  toMember: string;
  correlationId: string;
  status: MessageStatus;
  businessStatus: string | null;
  businessStatusAt: string;
  acceptedAt: string | null;
  dueAt: string | null;
  finishedAt: string | null;
  onTime: number | null;
}

const COLUMNS = `id, type, family, from_member AS fromMember, from_system AS fromSystem, to_member AS toMember,
  to_service AS toService, correlation_id AS correlationId, status, business_status AS businessStatus,
  accepted_at AS acceptedAt, last_event_at AS lastEventAt, delivered_at AS deliveredAt, connector, attempts,
  last_reason AS lastReason`;

export class MessageIndex {
  private readonly db: Database.Database;
  private readonly statements: Record<string, Database.Statement>;
  /** Applies consumed events in one transaction; returns the ids of the messages that changed. */
  readonly applyEvents: (events: BusEvent[]) => Set<string>;

  constructor(db: Database.Database) {
    this.db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, family TEXT NOT NULL,
        from_member TEXT NOT NULL, from_system TEXT NOT NULL, to_member TEXT NOT NULL, to_service TEXT NOT NULL,
        correlation_id TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'accepted', status_at TEXT NOT NULL DEFAULT '',
        business_status TEXT, business_status_at TEXT NOT NULL DEFAULT '',
        accepted_at TEXT, last_event_at TEXT NOT NULL, delivered_at TEXT,
        due_at TEXT, finished_at TEXT, on_time INTEGER,
        connector TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_reason TEXT);
      CREATE INDEX IF NOT EXISTS messages_by_time ON messages (last_event_at, id);
      CREATE INDEX IF NOT EXISTS messages_by_accepted ON messages (accepted_at);
      CREATE INDEX IF NOT EXISTS messages_by_correlation ON messages (correlation_id);
      CREATE INDEX IF NOT EXISTS messages_by_from ON messages (from_member);
      CREATE INDEX IF NOT EXISTS messages_by_to ON messages (to_member);
      CREATE TABLE IF NOT EXISTS message_events (
        event_id TEXT PRIMARY KEY, message_id TEXT NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL,
        actor TEXT, detail TEXT);
      CREATE INDEX IF NOT EXISTS message_events_by_message ON message_events (message_id, at);
    `);
    this.statements = {
      insertEvent: db.prepare('INSERT OR IGNORE INTO message_events VALUES (?, ?, ?, ?, ?, ?)'),
      // Any event carrying the routing fields creates the row: the accepted event is normally
      // first, but a console that starts mid-stream must still index what it sees.
      upsertMessage: db.prepare(`
        INSERT INTO messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id, last_event_at)
        VALUES (@id, @type, @family, @fromMember, @fromSystem, @toMember, @toService, @correlationId, @at)
        ON CONFLICT (id) DO UPDATE SET last_event_at = max(last_event_at, excluded.last_event_at)`),
      touch: db.prepare('UPDATE messages SET last_event_at = max(last_event_at, ?) WHERE id = ?'),
      accepted: db.prepare('UPDATE messages SET accepted_at = ? WHERE id = ? AND (accepted_at IS NULL OR accepted_at > ?)'),
      status: db.prepare('UPDATE messages SET status = ?, status_at = ? WHERE id = ? AND status_at <= ?'),
      delivered: db.prepare('UPDATE messages SET delivered_at = ? WHERE id = ? AND (delivered_at IS NULL OR delivered_at < ?)'),
      routed: db.prepare('UPDATE messages SET connector = ? WHERE id = ?'),
      failure: db.prepare('UPDATE messages SET attempts = max(attempts, ?), last_reason = ? WHERE id = ?'),
      business: db.prepare('UPDATE messages SET business_status = ?, business_status_at = ? WHERE id = ? AND business_status_at <= ?'),
      dates: db.prepare(`UPDATE messages SET due_at = coalesce(?, due_at), finished_at = coalesce(?, finished_at),
        on_time = coalesce(?, on_time) WHERE id = ?`),
      byId: db.prepare(`SELECT ${COLUMNS} FROM messages WHERE id = ?`),
      timeline: db.prepare('SELECT event_id AS eventId, event, at, actor, detail FROM message_events WHERE message_id = ? ORDER BY at, rowid'),
      related: db.prepare(`SELECT ${COLUMNS} FROM messages WHERE correlation_id = ? AND id <> ? ORDER BY accepted_at LIMIT 50`),
      count: db.prepare('SELECT count(*) AS n FROM messages'),
    };
    this.applyEvents = db.transaction((events: BusEvent[]) => {
      const changed = new Set<string>();
      for (const ev of events) if (this.applyOne(ev)) changed.add(ev.messageId!);
      return changed;
    });
  }

  private applyOne(ev: BusEvent): boolean {
    if (!ev.messageId) return false;
    const at = new Date(ev.at).toISOString();
    const inserted = this.statements.insertEvent.run(ev.id, ev.messageId, ev.event, at, ev.actor ?? null, ev.detail ? JSON.stringify(ev.detail) : null);
    if (inserted.changes === 0) return false; // a redelivered event: already applied
    const id = ev.messageId;
    if (ev.type && ev.from && ev.to) {
      this.statements.upsertMessage.run({
        id,
        type: ev.type,
        family: familyOf(ev.type),
        fromMember: ev.from.member,
        fromSystem: ev.from.system,
        toMember: ev.to.member,
        toService: ev.to.service,
        correlationId: ev.correlationId ?? id,
        at,
      });
    } else {
      this.statements.touch.run(at, id);
    }
    const s = this.statements;
    if (ev.event === 'accepted') s.accepted.run(at, id, at);
    const status = statusAfter(ev.event);
    if (status) s.status.run(status, at, id, at);
    if (ev.event === 'delivered') s.delivered.run(at, id, at);
    if (ev.event === 'routed' && typeof ev.detail?.connector === 'string') s.routed.run(ev.detail.connector, id);
    if (ev.event === 'delivery_failed' || ev.event === 'dead_lettered') {
      const attempts = Number(ev.detail?.attempt ?? ev.detail?.attempts ?? 0) || 0;
      s.failure.run(attempts, typeof ev.detail?.reason === 'string' ? ev.detail.reason.slice(0, 500) : null, id);
    }
    if (ev.detail && (ev.event === 'status' || ev.event === 'delivered')) {
      const facts = businessFacts(ev.detail);
      if (facts.status !== null) s.business.run(facts.status, at, id, at);
      if (facts.dueAt || facts.finishedAt || facts.onTime !== null) {
        s.dates.run(facts.dueAt, facts.finishedAt, facts.onTime === null ? null : facts.onTime ? 1 : 0, id);
      }
    }
    return true;
  }

  get(id: string): MessageRow | null {
    return (this.statements.byId.get(id) as MessageRow | undefined) ?? null;
  }

  timeline(id: string): TimelineEvent[] {
    return (this.statements.timeline.all(id) as (Omit<TimelineEvent, 'detail'> & { detail: string | null })[]).map((e) => ({
      ...e,
      detail: e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : null,
    }));
  }

  /** Other messages of the same business thread (same correlation id). */
  related(row: MessageRow): MessageRow[] {
    return this.statements.related.all(row.correlationId, row.id) as MessageRow[];
  }

  get size(): number {
    return (this.statements.count.get() as { n: number }).n;
  }

  /** Newest first by last activity; `before` pages on. Filters combine with AND. */
  search(q: MessageQuery): { items: MessageRow[]; nextBefore: string | null } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.id) {
      where.push('id = ?');
      params.push(q.id);
    }
    if (q.correlationId) {
      where.push('correlation_id = ?');
      params.push(q.correlationId);
    }
    if (q.member) {
      where.push('(from_member = ? OR to_member = ?)');
      params.push(q.member, q.member);
    }
    if (q.type) {
      // `edoc.*` (or `edoc.`) selects a family; anything else is an exact type.
      if (q.type.endsWith('.*') || q.type.endsWith('.')) {
        where.push('family = ?');
        params.push(q.type.replace(/\.\*?$/, ''));
      } else {
        where.push('type = ?');
        params.push(q.type);
      }
    }
    if (q.status) {
      where.push('(status = ? OR business_status = ?)');
      params.push(q.status, q.status);
    }
    if (q.from) {
      where.push('last_event_at >= ?');
      params.push(q.from);
    }
    if (q.to) {
      where.push('coalesce(accepted_at, last_event_at) < ?');
      params.push(q.to);
    }
    if (q.before) {
      const sep = q.before.lastIndexOf('|');
      where.push('(last_event_at < ? OR (last_event_at = ? AND id < ?))');
      const at = q.before.slice(0, sep);
      params.push(at, at, q.before.slice(sep + 1));
    }
    const limit = q.limit ?? 50;
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM messages ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY last_event_at DESC, id DESC LIMIT ?`)
      .all(...params, limit + 1) as MessageRow[];
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextBefore: rows.length > limit && last ? `${last.lastEventAt}|${last.id}` : null };
  }

  /** Messages accepted in [from, to), optionally of one family, for the KPI report. */
  kpiRows(from: string, to: string, family?: string): KpiMessageRow[] {
    return this.db
      .prepare(`SELECT id, type, family, from_member AS fromMember, to_member AS toMember, correlation_id AS correlationId,
          status, business_status AS businessStatus, business_status_at AS businessStatusAt, accepted_at AS acceptedAt, due_at AS dueAt,
          finished_at AS finishedAt, on_time AS onTime
        FROM messages WHERE accepted_at >= ? AND accepted_at < ? ${family ? 'AND family = ?' : ''} ORDER BY accepted_at`)
      .all(...(family ? [from, to, family] : [from, to])) as KpiMessageRow[];
  }

  /**
   * Every message of the given business threads, whenever accepted: a document sent in the
   * period may have its status packet (or a dossier its result) after the period ends.
   */
  threadRows(family: string, correlationIds: string[]): KpiMessageRow[] {
    if (correlationIds.length === 0) return [];
    return this.db
      .prepare(`SELECT id, type, family, from_member AS fromMember, to_member AS toMember, correlation_id AS correlationId,
          status, business_status AS businessStatus, business_status_at AS businessStatusAt, accepted_at AS acceptedAt,
          due_at AS dueAt, finished_at AS finishedAt, on_time AS onTime
        FROM messages WHERE family = ? AND correlation_id IN (SELECT value FROM json_each(?))`)
      .all(family, JSON.stringify(correlationIds)) as KpiMessageRow[];
  }
}
