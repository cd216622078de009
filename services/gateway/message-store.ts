// The gateways' view of message status and timelines: the one message read model in
// PostgreSQL (console_messages, console_message_events — services/console/message-index.ts
// folds events into it), which the ledger (services/ledger) feeds from lgsp.events and which
// the operator console reads too. Kafka stays the system of record: emptied tables are rebuilt
// by reading the topic from the beginning. A gateway adds the rows it knows first: the
// 'accepted' step when Kafka takes a message (read-your-writes through any gateway) and the
// events its own routes produce; plus the Idempotency-Key reservations.
//
// Until 2026-12-01 the gateways had tables of their own (gateway_messages,
// gateway_message_events) holding the same facts as the console's: every delivered message was
// written twice, a third of the bus's PostgreSQL row writes (docs/measurements-log.md).
import type { BusEvent, MessageStatus } from '../platform/bus-events.js';
import type { Database, Queryable } from '../platform/database.js';
import type { MessageView, MessageViews } from '../platform/gateway-module.js';
import { applyEventsIn } from '../console/message-index.js';
import { familyOf } from '../console/business-status.js';
import { prepared } from '../platform/prepared-statement.js';
import { DELETE_BATCH_ROWS, deleteInBatches } from '../platform/batched-delete.js';

export type { MessageView };

export interface IdempotencyRecord {
  bodyDigest: string;
  /** Several recipients: their ids joined with ','. */
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

/** How long an Idempotency-Key is remembered (a client retries within minutes, not days). */
export const IDEMPOTENCY_TTL_HOURS = 24;

/** One statement for a batch of 'accepted' steps (recordAccepted), prepared: its planning cost more than its execution. */
const SWEEP_EXPIRED_IDEMPOTENCY_KEYS = `DELETE FROM gateway_idempotency
  WHERE (client_id, key) IN (SELECT client_id, key FROM gateway_idempotency WHERE expires_at < now() LIMIT $1)`;

const RECORD_ACCEPTED = prepared(
  `WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
  messages AS (
    INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id,
                                  status, status_at, accepted_at, last_event_at)
    SELECT id, type, fam, fm, fs, tm, ts, cid, 'accepted', at, at, at
      FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        AS t(id, type, fam, fm, fs, tm, ts, cid, at)
    ON CONFLICT (id) DO NOTHING
  )
  INSERT INTO console_message_events (event_id, message_id, event, at, actor)
  SELECT eid, mid, 'accepted', at, 'gateway'
    FROM unnest($10::text[], $1::text[], $9::text[]) WITH ORDINALITY AS t(eid, mid, at, n), async_commit
   ORDER BY n
  ON CONFLICT (event_id) DO NOTHING`,
);

export class MessageStore implements MessageViews {
  constructor(private readonly db: Database) {}

  /** Events a gateway produced itself (and its 'accepted' steps), visible at once through every gateway. */
  async record(events: BusEvent[], q: Queryable = this.db): Promise<void> {
    await applyEventsIn(q, events);
  }

  /**
   * The 'accepted' steps (acceptedStep(): routing fields) of the plain submission path, written
   * before the message goes to Kafka (and so before its 202): one statement for the batch (one
   * round trip and one commit, not one per table), and committed without waiting for the WAL to
   * reach the disk — a disk flush on every 202 was the largest wait of the accept path and,
   * under other services' commits, its tail. A PostgreSQL outage still refuses the message
   * before Kafka sees it (the statement fails). What it trades: if the PostgreSQL server itself
   * crashes, the rows of the last fraction of a second may be lost; their messages are on Kafka
   * all the same, and the ledger writes the row and its 'accepted' step again from the first
   * outcome. The row is what message-index.ts's fold makes of an 'accepted' step alone.
   */
  async recordAccepted(events: BusEvent[]): Promise<void> {
    if (events.length === 0) return;
    const at = events.map((ev) => new Date(ev.at).toISOString());
    // One statement, so one round trip and its own transaction; set_config(..., true) applies
    // to that transaction only (the cross join makes it run before the rows are written).
    await this.db.query(
      RECORD_ACCEPTED,
      [
        events.map((ev) => ev.messageId),
        events.map((ev) => ev.type),
        events.map((ev) => familyOf(ev.type!)),
        events.map((ev) => ev.from!.member),
        events.map((ev) => ev.from!.system),
        events.map((ev) => ev.to!.member),
        events.map((ev) => ev.to!.service),
        events.map((ev) => ev.correlationId ?? ev.messageId),
        at,
        events.map((ev) => ev.id),
      ],
    );
  }

  /** Undoes record() for messages Kafka did not take after all. */
  async forget(messageIds: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM console_message_events WHERE message_id = ANY($1::text[])', [messageIds]);
      await tx.query('DELETE FROM console_messages WHERE id = ANY($1::text[])', [messageIds]);
    });
  }

  async get(id: string): Promise<MessageView | null> {
    // One statement, so one snapshot: the ledger writes a status and its timeline event in one
    // transaction, and two separate reads could see the new status without its event.
    const { rows } = await this.db.query<MessageRow & { events: Array<{ event: string; at: string; detail: Record<string, unknown> | null }> }>(
      `SELECT m.id, m.type, m.from_member, m.from_system, m.to_member, m.to_service, m.correlation_id, m.status,
              COALESCE((SELECT json_agg(json_build_object('event', e.event, 'at', e.at, 'detail', e.detail::json) ORDER BY e.at, e.seq)
                          FROM console_message_events e WHERE e.message_id = m.id), '[]'::json) AS events
         FROM console_messages m WHERE m.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      type: row.type,
      from: { member: row.from_member, system: row.from_system },
      to: { member: row.to_member, service: row.to_service },
      correlationId: row.correlation_id,
      status: row.status,
      events: row.events.map((e) => ({ event: e.event, at: e.at, ...(e.detail ? { detail: e.detail } : {}) })),
    };
  }

  /** Delivery status of several messages at once (missing ids are absent from the map). */
  async statuses(ids: string[]): Promise<Map<string, MessageStatus>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.query<{ id: string; status: MessageStatus }>('SELECT id, status FROM console_messages WHERE id = ANY($1::text[])', [ids]);
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** Recipients of several messages (a fan-out's answer). */
  async recipients(ids: string[]): Promise<Map<string, { member: string; service: string }>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.query<{ id: string; to_member: string; to_service: string }>(
      'SELECT id, to_member, to_service FROM console_messages WHERE id = ANY($1::text[])',
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { member: r.to_member, service: r.to_service }]));
  }

  /**
   * Reserves an Idempotency-Key inside the caller's transaction. Returns null when the key is
   * now ours; otherwise the earlier request's record. A concurrent request with the same key on
   * any gateway waits on the row until this transaction ends: it then sees the committed record,
   * or — if this one rolled back because Kafka refused — reserves the key itself.
   */
  async reserveIdempotency(tx: Queryable, clientId: string, key: string, rec: IdempotencyRecord): Promise<IdempotencyRecord | null> {
    // An expired row is taken over as if it were not there.
    const { rowCount } = await tx.query(
      `INSERT INTO gateway_idempotency AS i (client_id, key, body_digest, message_id, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5))
       ON CONFLICT (client_id, key) DO UPDATE SET body_digest = excluded.body_digest, message_id = excluded.message_id,
         created_at = now(), expires_at = excluded.expires_at
         WHERE i.expires_at < now()`,
      [clientId, key, rec.bodyDigest, rec.messageId, IDEMPOTENCY_TTL_HOURS],
    );
    if (rowCount === 1) return null;
    const { rows } = await tx.query<IdempotencyRecord>(
      'SELECT body_digest AS "bodyDigest", message_id AS "messageId" FROM gateway_idempotency WHERE client_id = $1 AND key = $2',
      [clientId, key],
    );
    return rows[0] ?? null;
  }

  /** Drops expired Idempotency-Keys, `batchRows` per statement (batched-delete.ts); every gateway sweeps periodically. */
  sweepIdempotency(batchRows = DELETE_BATCH_ROWS): Promise<number> {
    return deleteInBatches(this.db, SWEEP_EXPIRED_IDEMPOTENCY_KEYS, [], batchRows);
  }
}
