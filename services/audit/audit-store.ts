// The audit log (DESIGN §6): an append-only PostgreSQL table (audit_entries, migration
// *_audit-chain.sql) where every entry carries the hash of the entry before it, plus JWS
// checkpoints that sign the chain head from time to time. Editing, deleting or reordering an
// entry breaks the chain; deleting the tail (and re-hashing the rest) contradicts a signed
// checkpoint. chain-verifier.ts checks all of it from the database alone.
//
// One writer at a time: the audit service appends only while it holds the leader lock
// (audit-leadership.ts), and every append transaction also takes AUDIT_CHAIN_LOCK, so even two
// writers that both believe they lead (a leader cut off from PostgreSQL for a moment) extend one
// chain in turn instead of forking it.
//
// Hash of an entry (what chain-verifier.ts recomputes, and what an auditor's own tool must
// reproduce):
//
//   hash = lowercase hex SHA-256 of UTF-8( prev_hash + "\n" + content )
//   content = JSON.stringify([seq, event_id, at, recorded_at, body])
//
// i.e. a JSON array, no whitespace, seq a JSON integer and the other four JSON strings escaped
// as ECMAScript JSON.stringify does (only `"`, `\` and U+0000–U+001F are escaped; lone
// surrogates as \uXXXX). `body` is the canonical JSON of the BusEvent (canonicalJson below:
// RFC 8785 style, object keys sorted by UTF-16 code units, no whitespace), `at` the event time
// normalised to `Date.toISOString()` form, `recorded_at` when this store appended it. The
// first entry's prev_hash is 64 zeros. The remaining columns (message_id, event, type,
// from_member, to_member, actor) are derived from the body for indexing; the verifier checks
// they still agree with it.
import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { BusEvent } from '../platform/bus-events.js';
import { canonicalJson } from '../platform/canonical-json.js';
import type { SigningKey } from '../platform/keystore.js';
import type { Database } from '../platform/database.js';
import { prepared } from '../platform/prepared-statement.js';
import { textProblem } from '../platform/text-guard.js';
import { parseTimeBound } from '../platform/time-bound.js';
import { offsetsParameter, offsetsUpsertCte, saveReadModelOffsets, type PartitionOffset } from '../platform/read-model-offsets.js';

export const GENESIS_HASH = '0'.repeat(64);
export const CHECKPOINT_JWS_TYPE = 'lgsp-audit-checkpoint+jws';
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
/** Transaction-level advisory lock every append holds (pg_advisory_xact_lock): appends run one at a time. */
export const AUDIT_CHAIN_LOCK = 0x4c475350_a0d1;


export function entryHash(prevHash: string, content: { seq: number; eventId: string; at: string; recordedAt: string; body: string }): string {
  const serialised = JSON.stringify([content.seq, content.eventId, content.at, content.recordedAt, content.body]);
  return createHash('sha256').update(`${prevHash}\n${serialised}`, 'utf8').digest('hex');
}

/** The indexed columns as they must follow from an event; shared with the verifier. */
export function indexedColumns(ev: BusEvent): {
  messageId: string | null;
  event: string;
  type: string | null;
  fromMember: string | null;
  toMember: string | null;
  actor: string | null;
  at: string;
} {
  return {
    messageId: ev.messageId ?? null,
    event: ev.event,
    type: ev.type ?? null,
    fromMember: ev.from?.member ?? null,
    toMember: ev.to?.member ?? null,
    actor: ev.actor ?? null,
    at: new Date(ev.at).toISOString(),
  };
}

const EVENT_NAME = /^[a-z][a-z_]{0,63}$/;
const MAX_ID_LENGTH = 200;

/**
 * Why a value cannot become an audit entry, or null when it can. A valid entry needs an id
 * (the dedupe key), an event name, a parseable event time and an actor; the optional routing
 * fields, when present, must have the shapes the indexes read.
 */
export function auditEventProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const ev = value as Record<string, unknown>;
  if (typeof ev.id !== 'string' || ev.id.length === 0 || ev.id.length > MAX_ID_LENGTH) return 'id must be a non-empty string';
  if (typeof ev.event !== 'string' || !EVENT_NAME.test(ev.event)) return 'event must be an event name';
  if (typeof ev.at !== 'string' || !Number.isFinite(Date.parse(ev.at))) return 'at must be an ISO 8601 time';
  if (typeof ev.actor !== 'string') return 'actor must be a string';
  for (const field of ['messageId', 'type'] as const) {
    if (ev[field] !== undefined && typeof ev[field] !== 'string') return `${field} must be a string`;
  }
  for (const field of ['from', 'to'] as const) {
    const party = ev[field];
    if (party === undefined) continue;
    if (party === null || typeof party !== 'object' || typeof (party as { member?: unknown }).member !== 'string') {
      return `${field}.member must be a string`;
    }
  }
  if (ev.detail !== undefined && (ev.detail === null || typeof ev.detail !== 'object' || Array.isArray(ev.detail))) {
    return 'detail must be an object';
  }
  // The indexed columns are PostgreSQL text: a value it cannot hold would fail the whole batch's
  // statement, again and again. (The body is stored as JSON text, where such characters are escaped.)
  const unstorable = textProblem({ id: ev.id, ...indexedColumns(ev as unknown as BusEvent) });
  if (unstorable) return `${unstorable.field} ${unstorable.message}`;
  return null;
}

/** The JWS payload of a checkpoint; chain-verifier.ts compares it field by field to the row. */
export interface CheckpointClaims {
  seq: number;
  hash: string;
  at: string;
}

export function checkpointPayload(claims: CheckpointClaims): string {
  return JSON.stringify({ seq: claims.seq, hash: claims.hash, at: claims.at });
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface Checkpoint {
  seq: number;
  hash: string;
  signedAt: string;
  jws: string;
}

export interface AuditEntry {
  seq: number;
  recordedAt: string;
  prevHash: string;
  hash: string;
  event: BusEvent;
}

export interface AuditQuery {
  messageId?: string;
  /** Matches the sending or the receiving member. */
  member?: string;
  type?: string;
  event?: string;
  /** Inclusive lower bound on the event time `at` (ISO 8601). */
  from?: string;
  /** Exclusive upper bound on the event time `at` (ISO 8601). */
  to?: string;
  limit?: number;
  /** Cursor: only entries with a smaller seq (pass the previous page's `nextBefore`). */
  before?: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Cursor for the next (older) page, or null when this page is the last. */
  nextBefore: number | null;
}

interface EntryRow {
  seq: number;
  recorded_at: string;
  prev_hash: string;
  hash: string;
  body: string;
}

function isoOrThrow(value: string, name: string): string {
  const iso = parseTimeBound(value, 'Z');
  if (iso === null) throw new RangeError(`${name} is not a valid date or ISO 8601 time with its zone`);
  return iso;
}

// The whole batch is one parameter: a JSON array of rows, each an array in the column order
// below. pg would escape every element of thirteen text arrays with two regular expressions per
// value (5% of the audit's CPU, the bodies being JSON full of quotes); JSON.stringify is native.
const INSERT_ENTRIES_TEXT = `INSERT INTO audit_entries (seq, event_id, message_id, event, type, from_member, to_member, actor, at, recorded_at, body, prev_hash, hash)
  SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9, r->>10, r->>11, r->>12
  FROM jsonb_array_elements($1::jsonb) AS r`;
const INSERT_ENTRIES = prepared(INSERT_ENTRIES_TEXT);
/** The same insert, taking effect only while `$2` is still the chain's head. */
const INSERT_ENTRIES_AFTER_HEAD_TEXT = `${INSERT_ENTRIES_TEXT} WHERE (SELECT coalesce(max(seq), 0) FROM audit_entries) = $2`;
const INSERT_ENTRIES_AFTER_HEAD = prepared(INSERT_ENTRIES_AFTER_HEAD_TEXT);
/**
 * That insert and the consumer's offsets (`$3` the consumer, `$4` the offsets) in one statement,
 * so the fast path stays one round trip: the offsets are written only when every row (`$5` of
 * them) went in, and a unique violation fails both. Answers how many rows went in.
 */
const INSERT_ENTRIES_AFTER_HEAD_WITH_OFFSETS = prepared(`WITH entries AS (${INSERT_ENTRIES_AFTER_HEAD_TEXT} RETURNING 1),
  ${offsetsUpsertCte('$3', '$4', '(SELECT count(*) FROM entries) = $5')}
  SELECT (SELECT count(*) FROM entries)::integer AS appended`);

/** A consumer's offsets to store with the entries they produced (read-model-offsets.ts). */
export interface AppliedOffsets {
  consumer: string;
  offsets: PartitionOffset[];
}

/** Chain rows for `events` after `head`, as the JSON parameter of INSERT_ENTRIES. */
function chainRows(head: ChainHead, events: BusEvent[], recordedAt: string): { rows: string; head: ChainHead; count: number } {
  const rows: unknown[][] = [];
  for (const ev of events) {
    const c = indexedColumns(ev);
    const body = canonicalJson(ev);
    const seq = head.seq + 1;
    const hash = entryHash(head.hash, { seq, eventId: ev.id, at: c.at, recordedAt, body });
    rows.push([seq, ev.id, c.messageId, c.event, c.type, c.fromMember, c.toMember, c.actor, c.at, recordedAt, body, head.hash, hash]);
    head = { seq, hash };
  }
  return { rows: JSON.stringify(rows), head, count: rows.length };
}

const isUniqueViolation = (err: unknown) => (err as { code?: unknown }).code === '23505';

export class AuditStore {
  /**
   * The head this store itself last wrote: while it is still the head, the next batch goes in
   * one statement (no lock, no head read, no duplicate lookup: five round trips fewer per batch,
   * and the audit is the busiest writer of PostgreSQL). Forgotten on any doubt.
   */
  private ownHead: ChainHead | null = null;
  /** Appends of this process run one after another (a second one would race the first for seq). */
  private appending: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: Database) {}

  /**
   * Appends events in one transaction, skipping event ids already recorded. Returns how many
   * were appended. Throws (appending nothing) if any event fails auditEventProblem: callers
   * turn such records into 'rejected' entries first, see audit-service.ts.
   */
  appendBatch(events: BusEvent[], applied?: AppliedOffsets): Promise<number> {
    const run = this.appending.then(() => this.append(events, applied));
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async append(events: BusEvent[], applied?: AppliedOffsets): Promise<number> {
    if (events.length === 0) {
      if (applied) await saveReadModelOffsets(this.db, applied.consumer, applied.offsets);
      return 0;
    }
    for (const ev of events) {
      const problem = auditEventProblem(ev);
      if (problem) throw new TypeError(`not a valid audit event: ${problem}`);
    }
    const unique = [...new Map(events.map((ev) => [ev.id, ev])).values()];
    const recordedAt = new Date().toISOString();
    const fast = await this.appendAfterOwnHead(unique, recordedAt, applied);
    if (fast !== null) return fast;
    const appended = await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
      const head = (await headOf(tx)) ?? { seq: 0, hash: GENESIS_HASH };
      // Kafka delivers at least once: a redelivered event is already in the chain.
      const known = new Set(
        (await tx.query<{ event_id: string }>('SELECT event_id FROM audit_entries WHERE event_id = ANY($1::text[])', [unique.map((e) => e.id)])).rows.map((r) => r.event_id),
      );
      const chained = chainRows(head, unique.filter((ev) => !known.has(ev.id)), recordedAt);
      // One statement for the whole batch.
      if (chained.count > 0) await tx.query(INSERT_ENTRIES, [chained.rows]);
      // Where the consumer got to, with the entries (a batch of redeliveries only, too).
      if (applied) await saveReadModelOffsets(tx, applied.consumer, applied.offsets);
      return chained;
    });
    this.ownHead = appended.head;
    return appended.count;
  }

  /**
   * The batch after the head this store last wrote, in one statement that inserts nothing
   * unless that is still the head. Null when it cannot tell (no own head, the head moved, an
   * event already recorded): the caller takes the locked path, which sorts it out.
   */
  private async appendAfterOwnHead(events: BusEvent[], recordedAt: string, applied?: AppliedOffsets): Promise<number | null> {
    const head = this.ownHead;
    this.ownHead = null;
    if (!head) return null;
    const chained = chainRows(head, events, recordedAt);
    try {
      // Another writer's entry after our head makes max(seq) differ (nothing inserted), and one
      // racing this statement collides on seq; a redelivered event collides on event_id.
      const inserted = applied && applied.offsets.length > 0
        ? (await this.db.query<{ appended: number }>(INSERT_ENTRIES_AFTER_HEAD_WITH_OFFSETS, [chained.rows, head.seq, applied.consumer, offsetsParameter(applied.offsets), chained.count])).rows[0].appended
        : (await this.db.query(INSERT_ENTRIES_AFTER_HEAD, [chained.rows, head.seq])).rowCount;
      if (inserted !== chained.count) return null;
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
    this.ownHead = chained.head;
    return chained.count;
  }

  async head(): Promise<ChainHead | null> {
    return headOf(this.db);
  }

  async count(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM audit_entries')).rows[0].n;
  }

  /**
   * The checkpoint written last. Not the one with the highest seq: a row someone put in the table
   * naming a seq beyond the chain (seq 999999, any JWS) was taken for the newest checkpoint, so
   * the leader never signed the head again and lgsp_audit_unsigned_entries went negative, which
   * kept LgspAuditHeadUnsigned quiet while the new entries stayed unsigned.
   */
  async lastCheckpoint(): Promise<Checkpoint | null> {
    const { rows } = await this.db.query<Checkpoint>(
      'SELECT seq, hash, signed_at AS "signedAt", jws FROM audit_checkpoints ORDER BY id DESC LIMIT 1',
    );
    return rows[0] ?? null;
  }

  /**
   * Signs the chain head unless the checkpoint written last names exactly this head; returns the
   * new checkpoint or null.
   */
  async checkpoint(key: SigningKey): Promise<Checkpoint | null> {
    const head = await this.head();
    const last = await this.lastCheckpoint();
    if (!head || (last && Number(last.seq) === Number(head.seq) && last.hash === head.hash)) return null;
    const signedAt = new Date().toISOString();
    const jws = await new CompactSign(new TextEncoder().encode(checkpointPayload({ seq: head.seq, hash: head.hash, at: signedAt })))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: CHECKPOINT_JWS_TYPE })
      .sign(key.key);
    // Entries appended while signing only move the head further; the signed one stays valid.
    await this.db.query('INSERT INTO audit_checkpoints (seq, hash, signed_at, jws) VALUES ($1, $2, $3, $4)', [head.seq, head.hash, signedAt, jws]);
    return { seq: head.seq, hash: head.hash, signedAt, jws };
  }

  /** Newest first. Throws RangeError for an invalid time bound. */
  async query(q: AuditQuery = {}): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    // The message's own steps, and the operator actions taken on it (a replay's intent and
    // outcome name it in their detail): who authorised a replay is found with the replay.
    if (q.messageId !== undefined) add((p) => `(message_id = ${p} OR (event = 'operator_action' AND (body::json -> 'detail' ->> 'messageId') = ${p}))`, q.messageId);
    if (q.member !== undefined) add((p) => `(from_member = ${p} OR to_member = ${p})`, q.member);
    // A family (`edoc.*`), as the console's message search takes it: every type under that prefix.
    if (q.type !== undefined && q.type.endsWith('.*')) add((p) => `type LIKE ${p}`, `${q.type.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
    else if (q.type !== undefined) add((p) => `type = ${p}`, q.type);
    if (q.event !== undefined) add((p) => `event = ${p}`, q.event);
    // `at` is stored in toISOString() form, so string order is time order (COLLATE "C": bytewise).
    if (q.from !== undefined) add((p) => `at COLLATE "C" >= ${p}`, isoOrThrow(q.from, 'from'));
    if (q.to !== undefined) add((p) => `at COLLATE "C" < ${p}`, isoOrThrow(q.to, 'to'));
    if (q.before !== undefined) add((p) => `seq < ${p}`, q.before);
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_QUERY_LIMIT)), MAX_QUERY_LIMIT);
    // One row more than asked tells whether an older page exists.
    params.push(limit + 1);
    const { rows } = await this.db.query<EntryRow>(
      `SELECT seq, recorded_at, prev_hash, hash, body FROM audit_entries
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return {
      entries: page.map((r) => ({
        seq: r.seq,
        recordedAt: r.recorded_at,
        prevHash: r.prev_hash,
        hash: r.hash,
        event: JSON.parse(r.body) as BusEvent,
      })),
      nextBefore: rows.length > limit ? page[page.length - 1].seq : null,
    };
  }
}

async function headOf(q: Pick<Database, 'query'>): Promise<ChainHead | null> {
  const { rows } = await q.query<ChainHead>('SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1');
  return rows[0] ?? null;
}
