// The console's own index of bus traffic, fed from lgsp.events: one row per message (its
// latest transport status, its latest business status, the dates a KPI needs) and every event
// of its timeline, in PostgreSQL. It is a read model: Kafka stays the system of record, and a
// console with an empty store rebuilds it by reading the topic from the beginning (see
// console-store.ts). A consumed batch is applied in one transaction.
// Events may arrive out of order across restarts and redeliveries; every update here is
// idempotent (event ids are unique) and ordered by event time, not by arrival.
import type { Database, Queryable } from '../platform/database.js';
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

const COLUMNS = `id, type, family, from_member AS "fromMember", from_system AS "fromSystem", to_member AS "toMember",
  to_service AS "toService", correlation_id AS "correlationId", status, business_status AS "businessStatus",
  accepted_at AS "acceptedAt", last_event_at AS "lastEventAt", delivered_at AS "deliveredAt", connector, attempts,
  last_reason AS "lastReason"`;

const KPI_COLUMNS = `id, type, family, from_member AS "fromMember", to_member AS "toMember", correlation_id AS "correlationId",
  status, business_status AS "businessStatus", business_status_at AS "businessStatusAt", accepted_at AS "acceptedAt",
  due_at AS "dueAt", finished_at AS "finishedAt", on_time AS "onTime"`;

/**
 * The events plus, for each first-attempt outcome, the message's 'accepted' step. The bus has
 * no accepted event (the message record is the acceptance): the outcome of a message's first
 * attempt carries its acceptance time (`detail.acceptedAt`). The step's id is derived from the
 * message id, so seeing it again (a recovered delivery) changes nothing.
 */
export function withAcceptances(events: BusEvent[]): BusEvent[] {
  const out: BusEvent[] = [];
  for (const ev of events) {
    const acceptedAt = ev.detail?.acceptedAt;
    if (ev.messageId && typeof acceptedAt === 'string' && Number.isFinite(Date.parse(acceptedAt))) {
      const { detail: _detail, ...routing } = ev;
      out.push({ ...routing, id: `${ev.messageId}:accepted`, event: 'accepted', at: acceptedAt, actor: 'gateway' });
    }
    out.push(ev);
  }
  return out;
}

/** Applies events with `q` (one transaction's connection); returns the ids of the messages that changed. */
export async function applyEventsIn(q: Queryable, events: BusEvent[]): Promise<Set<string>> {
  const changed = new Set<string>();
  const withMessage = events.filter((ev) => ev.messageId);
  if (withMessage.length === 0) return changed;
  // One statement records the batch's events; only those not seen before (a redelivered
  // event was already applied) go on to update their message.
  const { rows } = await q.query<{ event_id: string }>(
    `INSERT INTO console_message_events (event_id, message_id, event, at, actor, detail)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [
      withMessage.map((ev) => ev.id),
      withMessage.map((ev) => ev.messageId),
      withMessage.map((ev) => ev.event),
      withMessage.map((ev) => new Date(ev.at).toISOString()),
      withMessage.map((ev) => ev.actor ?? null),
      withMessage.map((ev) => (ev.detail ? JSON.stringify(ev.detail) : null)),
    ],
  );
  const fresh = new Set(rows.map((r) => r.event_id));
  for (const ev of withMessage) {
    if (!fresh.has(ev.id)) continue;
    fresh.delete(ev.id); // an id twice in one batch is applied once
    await applyOne(q, ev);
    changed.add(ev.messageId!);
  }
  return changed;
}

export class MessageIndex {
  constructor(private readonly db: Database) {}

  /** Applies events in one transaction; returns the ids of the messages that changed. */
  applyEvents(events: BusEvent[]): Promise<Set<string>> {
    return this.db.transaction((tx) => applyEventsIn(tx, events));
  }



  async get(id: string): Promise<MessageRow | null> {
    return (await this.db.query<MessageRow>(`SELECT ${COLUMNS} FROM console_messages WHERE id = $1`, [id])).rows[0] ?? null;
  }

  async timeline(id: string): Promise<TimelineEvent[]> {
    const { rows } = await this.db.query<Omit<TimelineEvent, 'detail'> & { detail: string | null }>(
      'SELECT event_id AS "eventId", event, at, actor, detail FROM console_message_events WHERE message_id = $1 ORDER BY at, seq',
      [id],
    );
    return rows.map((e) => ({ ...e, detail: e.detail ? (JSON.parse(e.detail) as Record<string, unknown>) : null }));
  }

  /** Other messages of the same business thread (same correlation id). */
  async related(row: MessageRow): Promise<MessageRow[]> {
    return (await this.db.query<MessageRow>(`SELECT ${COLUMNS} FROM console_messages WHERE correlation_id = $1 AND id <> $2 ORDER BY accepted_at LIMIT 50`, [row.correlationId, row.id])).rows;
  }

  async size(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM console_messages')).rows[0].n;
  }

  /** Newest first by last activity; `before` pages on. Filters combine with AND. */
  async search(q: MessageQuery): Promise<{ items: MessageRow[]; nextBefore: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (q.id) where.push(`id = ${p(q.id)}`);
    if (q.correlationId) where.push(`correlation_id = ${p(q.correlationId)}`);
    if (q.member) {
      const m = p(q.member);
      where.push(`(from_member = ${m} OR to_member = ${m})`);
    }
    if (q.type) {
      // `edoc.*` (or `edoc.`) selects a family; anything else is an exact type.
      if (q.type.endsWith('.*') || q.type.endsWith('.')) where.push(`family = ${p(q.type.replace(/\.\*?$/, ''))}`);
      else where.push(`type = ${p(q.type)}`);
    }
    if (q.status) {
      const st = p(q.status);
      where.push(`(status = ${st} OR business_status = ${st})`);
    }
    if (q.from) where.push(`last_event_at >= ${p(q.from)}`);
    if (q.to) where.push(`coalesce(accepted_at, last_event_at) < ${p(q.to)}`);
    if (q.before) {
      const sep = q.before.lastIndexOf('|');
      const at = p(q.before.slice(0, sep));
      where.push(`(last_event_at < ${at} OR (last_event_at = ${at} AND id < ${p(q.before.slice(sep + 1))}))`);
    }
    const limit = q.limit ?? 50;
    const { rows } = await this.db.query<MessageRow>(
      `SELECT ${COLUMNS} FROM console_messages ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY last_event_at DESC, id DESC LIMIT ${p(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextBefore: rows.length > limit && last ? `${last.lastEventAt}|${last.id}` : null };
  }

  /** Messages accepted in [from, to), optionally of one family, for the KPI report. */
  async kpiRows(from: string, to: string, family?: string): Promise<KpiMessageRow[]> {
    return (await this.db.query<KpiMessageRow>(
      `SELECT ${KPI_COLUMNS} FROM console_messages WHERE accepted_at >= $1 AND accepted_at < $2 ${family ? 'AND family = $3' : ''} ORDER BY accepted_at`,
      family ? [from, to, family] : [from, to],
    )).rows;
  }

  /**
   * Every message of the given business threads, whenever accepted: a document sent in the
   * period may have its status packet (or a dossier its result) after the period ends.
   */
  async threadRows(family: string, correlationIds: string[]): Promise<KpiMessageRow[]> {
    if (correlationIds.length === 0) return [];
    return (await this.db.query<KpiMessageRow>(`SELECT ${KPI_COLUMNS} FROM console_messages WHERE family = $1 AND correlation_id = ANY($2::text[])`, [family, correlationIds])).rows;
  }
}

/** One new event's effect on its message row; updates are ordered by event time, not arrival. */
async function applyOne(tx: Queryable, ev: BusEvent): Promise<void> {
  const id = ev.messageId!;
  const at = new Date(ev.at).toISOString();
  if (ev.type && ev.from && ev.to) {
    // Any event carrying the routing fields creates the row: the accepted event is normally
    // first, but a console that starts mid-stream must still index what it sees.
    await tx.query(
      `INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id, last_event_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET last_event_at = GREATEST(console_messages.last_event_at, excluded.last_event_at)`,
      [id, ev.type, familyOf(ev.type), ev.from.member, ev.from.system, ev.to.member, ev.to.service, ev.correlationId ?? id, at],
    );
  } else {
    await tx.query('UPDATE console_messages SET last_event_at = GREATEST(last_event_at, $1) WHERE id = $2', [at, id]);
  }
  if (ev.event === 'accepted') await tx.query('UPDATE console_messages SET accepted_at = $1 WHERE id = $2 AND (accepted_at IS NULL OR accepted_at > $1)', [at, id]);
  const status = statusAfter(ev.event);
  if (status) await tx.query('UPDATE console_messages SET status = $1, status_at = $2 WHERE id = $3 AND status_at <= $2', [status, at, id]);
  if (ev.event === 'delivered') await tx.query('UPDATE console_messages SET delivered_at = $1 WHERE id = $2 AND (delivered_at IS NULL OR delivered_at < $1)', [at, id]);
  // Outcome events name the connector that handled the attempt.
  if (typeof ev.detail?.connector === 'string') await tx.query('UPDATE console_messages SET connector = $1 WHERE id = $2', [ev.detail.connector, id]);
  if (ev.event === 'delivery_failed' || ev.event === 'dead_lettered') {
    const attempts = Number(ev.detail?.attempt ?? ev.detail?.attempts ?? 0) || 0;
    await tx.query('UPDATE console_messages SET attempts = GREATEST(attempts, $1), last_reason = $2 WHERE id = $3', [
      attempts,
      typeof ev.detail?.reason === 'string' ? ev.detail.reason.slice(0, 500) : null,
      id,
    ]);
  }
  if (ev.detail && (ev.event === 'status' || ev.event === 'delivered')) {
    const facts = businessFacts(ev.detail);
    if (facts.status !== null) {
      await tx.query('UPDATE console_messages SET business_status = $1, business_status_at = $2 WHERE id = $3 AND business_status_at <= $2', [facts.status, at, id]);
    }
    if (facts.dueAt || facts.finishedAt || facts.onTime !== null) {
      await tx.query('UPDATE console_messages SET due_at = coalesce($1, due_at), finished_at = coalesce($2, finished_at), on_time = coalesce($3, on_time) WHERE id = $4', [
        facts.dueAt,
        facts.finishedAt,
        facts.onTime === null ? null : facts.onTime ? 1 : 0,
        id,
      ]);
    }
  }
}
