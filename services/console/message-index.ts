// The console's own index of bus traffic, fed from lgsp.events: one row per message (its
// latest transport status, its latest business status, the dates a KPI needs) and every event
// of its timeline, in PostgreSQL. It is a read model: Kafka stays the system of record, and a
// console with an empty store rebuilds it by reading the topic from the beginning (see
// console-store.ts). A consumed batch is applied in one transaction.
// Events may arrive out of order across restarts and redeliveries; every update here is
// idempotent (event ids are unique) and ordered by event time, not by arrival.
import { longStatement, type Database, type Queryable } from '../platform/database.js';
import { acceptedStepId, MESSAGE_STATUSES, statusAfter, type BusEvent, type MessageStatus } from '../platform/bus-events.js';
import { businessFacts, businessStatusForms, familyOf } from './business-status.js';
import { prepared } from '../platform/prepared-statement.js';

/** The KPI report's reads may take this long (LGSP_DATABASE_STATEMENT_TIMEOUT_MS bounds everything else). */
const KPI_STATEMENT_TIMEOUT_MS = 120_000;
/** Up to this many messages (by PostgreSQL's estimate) the index's size is counted exactly (tens of milliseconds at most). */
const EXACT_SIZE_UP_TO = 100_000;

// The index's two inserts, prepared (prepared-statement.ts): planning them cost more than running
// them for a batch.
const INSERT_EVENTS = prepared(
  `INSERT INTO console_message_events (event_id, message_id, event, at, actor, detail)
   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
   ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
);
const INSERT_MESSAGES = prepared(
  `INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id, last_event_at)
   SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
   ON CONFLICT (id) DO NOTHING`,
);

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
  /** Transport status (accepted, delivered, failed, dead_lettered). */
  status?: string;
  /** Business status code, in any form a connector reports it (businessStatusForms). */
  businessStatus?: string;
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
      out.push({ ...routing, id: acceptedStepId(ev.messageId), event: 'accepted', at: acceptedAt, actor: 'gateway' });
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
    INSERT_EVENTS,
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
  const changes = new Map<string, MessageChange>();
  for (const ev of withMessage) {
    if (!fresh.has(ev.id)) continue;
    fresh.delete(ev.id); // an id twice in one batch is applied once
    const id = ev.messageId!;
    let change = changes.get(id);
    if (!change) changes.set(id, (change = newChange(id)));
    foldEvent(change, ev);
    changed.add(id);
  }
  if (changes.size > 0) await applyChanges(q, [...changes.values()]);
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

  /**
   * Other messages of the same business thread: the same correlation id between the same
   * agencies (one of the message's two members sends or receives it). Correlation ids are the
   * senders' own ("CV-1", a dossier code): two agencies' unrelated messages may share one.
   */
  async related(row: MessageRow): Promise<MessageRow[]> {
    return (await this.db.query<MessageRow>(
      `SELECT ${COLUMNS} FROM console_messages WHERE correlation_id = $1 AND id <> $2
         AND (from_member IN ($3, $4) OR to_member IN ($3, $4)) ORDER BY accepted_at LIMIT 50`,
      [row.correlationId, row.id, row.fromMember, row.toMember],
    )).rows;
  }

  /**
   * How many messages the index holds: counted while the table is small, PostgreSQL's own
   * estimate (pg_class.reltuples, kept by autovacuum and ANALYZE) beyond EXACT_SIZE_UP_TO.
   * Readiness probes and the overview ask every few seconds, and count(*) reads the whole table:
   * seconds for a province's year of messages, long enough to fail the probe it answers.
   */
  async size(): Promise<{ messages: number; estimated: boolean }> {
    const { rows } = await this.db.query<{ estimate: number | null }>(
      "SELECT CASE WHEN reltuples >= $1 THEN reltuples::bigint END AS estimate FROM pg_class WHERE oid = 'console_messages'::regclass",
      [EXACT_SIZE_UP_TO],
    );
    const estimate = rows[0]?.estimate;
    if (estimate !== null && estimate !== undefined) return { messages: Number(estimate), estimated: true };
    return { messages: Number((await this.db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM console_messages')).rows[0].n), estimated: false };
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
    // A transport status is that alone: the dossier business status "accepted" (TrangThaiHoSo 2)
    // has the same name, and a search for messages the bus has not delivered yet must not list it.
    // Any other value in `status` is a business status code (as the filter was first documented).
    const transport = q.status !== undefined && (MESSAGE_STATUSES as readonly string[]).includes(q.status);
    if (transport) where.push(`status = ${p(q.status)}`);
    const businessStatus = q.businessStatus ?? (q.status && !transport ? q.status : undefined);
    if (businessStatus) {
      // A code means something else in each family (02 is a refused document, 2 an accepted
      // dossier): each row is compared with the forms of the code in its own family.
      const forms = (family: string) => p(businessStatusForms(family, businessStatus));
      where.push(`business_status = ANY(CASE family WHEN 'edoc' THEN ${forms('edoc')}::text[] WHEN 'dossier' THEN ${forms('dossier')}::text[] ELSE ${forms('')}::text[] END)`);
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
    // A report over months reads many rows: more time than a request-path statement gets.
    return (await this.db.longQuery<KpiMessageRow>(
      longStatement(`SELECT ${KPI_COLUMNS} FROM console_messages WHERE accepted_at >= $1 AND accepted_at < $2 ${family ? 'AND family = $3' : ''} ORDER BY accepted_at`, KPI_STATEMENT_TIMEOUT_MS),
      family ? [from, to, family] : [from, to],
    )).rows;
  }

  /**
   * Every message of the given business threads, whenever accepted: a document sent in the
   * period may have its status packet (or a dossier its result) after the period ends.
   */
  async threadRows(family: string, correlationIds: string[]): Promise<KpiMessageRow[]> {
    if (correlationIds.length === 0) return [];
    return (await this.db.longQuery<KpiMessageRow>(longStatement(`SELECT ${KPI_COLUMNS} FROM console_messages WHERE family = $1 AND correlation_id = ANY($2::text[])`, KPI_STATEMENT_TIMEOUT_MS), [family, correlationIds])).rows;
  }
}

/**
 * What a batch's new events do to one message row, folded in JS so the whole batch is two
 * statements (insert the rows that are new, update every changed row) instead of several per
 * event — each statement is a round trip, and that write was the ledger's biggest cost in a
 * profile. Every column follows the same rule an event-by-event update would, ordered by event
 * time, not arrival: statuses go to the newest event (the later one in the batch on a tie), times
 * to the earliest acceptance and the latest delivery, attempts to the highest count, the
 * connector and the last failure's reason to the batch's last, business dates to the last one
 * given. (One difference, on purpose: an event without routing fields that precedes its
 * message's first routed event in the same batch now counts too.)
 */
interface MessageChange {
  id: string;
  routing: { type: string; family: string; fromMember: string; fromSystem: string; toMember: string; toService: string; correlationId: string } | null;
  lastEventAt: string;
  acceptedAt: string | null;
  status: { value: MessageStatus; at: string } | null;
  deliveredAt: string | null;
  connector: string | null;
  failure: { attempts: number; reason: string | null } | null;
  business: { value: string; at: string } | null;
  dueAt: string | null;
  finishedAt: string | null;
  onTime: number | null;
}

function newChange(id: string): MessageChange {
  return { id, routing: null, lastEventAt: '', acceptedAt: null, status: null, deliveredAt: null, connector: null, failure: null, business: null, dueAt: null, finishedAt: null, onTime: null };
}

function foldEvent(c: MessageChange, ev: BusEvent): void {
  const at = new Date(ev.at).toISOString();
  // The first event carrying the routing fields creates the row: the accepted step is normally
  // first, but a console that starts mid-stream must still index what it sees.
  if (!c.routing && ev.type && ev.from && ev.to) {
    c.routing = { type: ev.type, family: familyOf(ev.type), fromMember: ev.from.member, fromSystem: ev.from.system, toMember: ev.to.member, toService: ev.to.service, correlationId: ev.correlationId ?? c.id };
  }
  if (at > c.lastEventAt) c.lastEventAt = at;
  if (ev.event === 'accepted' && (c.acceptedAt === null || at < c.acceptedAt)) c.acceptedAt = at;
  const status = statusAfter(ev.event);
  if (status && (!c.status || at >= c.status.at)) c.status = { value: status, at };
  if (ev.event === 'delivered' && (c.deliveredAt === null || at > c.deliveredAt)) c.deliveredAt = at;
  // Outcome events name the connector that handled the attempt.
  if (typeof ev.detail?.connector === 'string') c.connector = ev.detail.connector;
  if (ev.event === 'delivery_failed' || ev.event === 'dead_lettered') {
    const attempts = Number(ev.detail?.attempt ?? ev.detail?.attempts ?? 0) || 0;
    c.failure = { attempts: Math.max(c.failure?.attempts ?? 0, attempts), reason: typeof ev.detail?.reason === 'string' ? ev.detail.reason.slice(0, 500) : null };
  }
  if (ev.detail && (ev.event === 'status' || ev.event === 'delivered')) {
    const facts = businessFacts(ev.detail);
    if (facts.status !== null && (!c.business || at >= c.business.at)) c.business = { value: facts.status, at };
    if (facts.dueAt) c.dueAt = facts.dueAt;
    if (facts.finishedAt) c.finishedAt = facts.finishedAt;
    if (facts.onTime !== null) c.onTime = facts.onTime ? 1 : 0;
  }
}

async function applyChanges(tx: Queryable, changes: MessageChange[]): Promise<void> {
  const routed = changes.filter((c) => c.routing);
  if (routed.length > 0) {
    await tx.query(
      INSERT_MESSAGES,
      [
        routed.map((c) => c.id),
        routed.map((c) => c.routing!.type),
        routed.map((c) => c.routing!.family),
        routed.map((c) => c.routing!.fromMember),
        routed.map((c) => c.routing!.fromSystem),
        routed.map((c) => c.routing!.toMember),
        routed.map((c) => c.routing!.toService),
        routed.map((c) => c.routing!.correlationId),
        routed.map((c) => c.lastEventAt),
      ],
    );
  }
  // SET expressions read the row as it was before this statement: status and status_at (and the
  // business pair) are decided on the same old time. Not prepared: a generic plan of this join
  // cannot know the batch's size and may scan the table (prepared-statement.ts).
  await tx.query(
    `UPDATE console_messages m SET
       last_event_at = GREATEST(m.last_event_at, t.last_event_at COLLATE "C"),
       accepted_at = CASE WHEN t.accepted_at IS NOT NULL AND (m.accepted_at IS NULL OR m.accepted_at > t.accepted_at COLLATE "C") THEN t.accepted_at ELSE m.accepted_at END,
       status = CASE WHEN t.status IS NOT NULL AND m.status_at <= t.status_at COLLATE "C" THEN t.status ELSE m.status END,
       status_at = CASE WHEN t.status IS NOT NULL AND m.status_at <= t.status_at COLLATE "C" THEN t.status_at ELSE m.status_at END,
       delivered_at = CASE WHEN t.delivered_at IS NOT NULL AND (m.delivered_at IS NULL OR m.delivered_at < t.delivered_at COLLATE "C") THEN t.delivered_at ELSE m.delivered_at END,
       connector = coalesce(t.connector, m.connector),
       attempts = CASE WHEN t.failed THEN GREATEST(m.attempts, t.attempts) ELSE m.attempts END,
       last_reason = CASE WHEN t.failed THEN t.reason ELSE m.last_reason END,
       business_status = CASE WHEN t.business_status IS NOT NULL AND m.business_status_at <= t.business_status_at COLLATE "C" THEN t.business_status ELSE m.business_status END,
       business_status_at = CASE WHEN t.business_status IS NOT NULL AND m.business_status_at <= t.business_status_at COLLATE "C" THEN t.business_status_at ELSE m.business_status_at END,
       due_at = coalesce(t.due_at, m.due_at),
       finished_at = coalesce(t.finished_at, m.finished_at),
       on_time = coalesce(t.on_time, m.on_time)
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::integer[], $10::text[],
                 $11::text[], $12::text[], $13::text[], $14::text[], $15::smallint[])
       AS t(id, last_event_at, accepted_at, status, status_at, delivered_at, connector, failed, attempts, reason,
            business_status, business_status_at, due_at, finished_at, on_time)
     WHERE m.id = t.id`,
    [
      changes.map((c) => c.id),
      changes.map((c) => c.lastEventAt),
      changes.map((c) => c.acceptedAt),
      changes.map((c) => c.status?.value ?? null),
      changes.map((c) => c.status?.at ?? null),
      changes.map((c) => c.deliveredAt),
      changes.map((c) => c.connector),
      changes.map((c) => c.failure !== null),
      changes.map((c) => c.failure?.attempts ?? 0),
      changes.map((c) => c.failure?.reason ?? null),
      changes.map((c) => c.business?.value ?? null),
      changes.map((c) => c.business?.at ?? null),
      changes.map((c) => c.dueAt),
      changes.map((c) => c.finishedAt),
      changes.map((c) => c.onTime),
    ],
  );
}
