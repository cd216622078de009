// The audit log (DESIGN §6): an append-only SQLite table where every entry carries the hash of
// the entry before it, plus JWS checkpoints that sign the chain head from time to time. Editing,
// deleting or reordering an entry breaks the chain; deleting the tail (and re-hashing the rest)
// contradicts a signed checkpoint. chain-verifier.ts checks all of it from the file alone.
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
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { BusEvent } from '../platform/bus-events.js';
import type { SigningKey } from '../platform/keystore.js';
import { openSqlite } from '../platform/sqlite-file.js';

export const GENESIS_HASH = '0'.repeat(64);
export const CHECKPOINT_JWS_TYPE = 'lgsp-audit-checkpoint+jws';
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;

/** RFC 8785 style canonical JSON for the plain JSON values BusEvents hold. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

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
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`${name} is not a valid ISO 8601 time`);
  return new Date(ms).toISOString();
}

export class AuditStore {
  private readonly db: Database.Database;
  private readonly selectHead: Database.Statement;
  private readonly selectEventId: Database.Statement;
  private readonly insertEntry: Database.Statement;
  private readonly selectLastCheckpoint: Database.Statement;
  private readonly insertCheckpoint: Database.Statement;
  private readonly appendInTransaction: (events: BusEvent[], recordedAt: string) => number;

  constructor(readonly file: string) {
    // FULL: an audit entry acknowledged to Kafka (offset committed) must survive a power cut.
    this.db = openSqlite(file, 'FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS entries (
        seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, message_id TEXT, event TEXT NOT NULL,
        type TEXT, from_member TEXT, to_member TEXT, actor TEXT, at TEXT NOT NULL, recorded_at TEXT NOT NULL,
        body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS entries_by_message ON entries (message_id, seq);
      CREATE INDEX IF NOT EXISTS entries_by_from ON entries (from_member, seq);
      CREATE INDEX IF NOT EXISTS entries_by_to ON entries (to_member, seq);
      CREATE INDEX IF NOT EXISTS entries_by_type ON entries (type, seq);
      CREATE INDEX IF NOT EXISTS entries_by_event ON entries (event, seq);
      CREATE INDEX IF NOT EXISTS entries_by_at ON entries (at);
      CREATE TABLE IF NOT EXISTS checkpoints (
        seq INTEGER NOT NULL, hash TEXT NOT NULL, signed_at TEXT NOT NULL, jws TEXT NOT NULL);
      -- Guards against mistakes in code, not against an attacker (who can drop them): the hash
      -- chain and the signed checkpoints are what make tampering visible.
      CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
      CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
      CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
      CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
    `);
    this.selectHead = this.db.prepare(`SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1`);
    this.selectEventId = this.db.prepare(`SELECT 1 FROM entries WHERE event_id = ?`);
    this.insertEntry = this.db.prepare(`
      INSERT INTO entries (seq, event_id, message_id, event, type, from_member, to_member, actor, at, recorded_at, body, prev_hash, hash)
      VALUES (@seq, @eventId, @messageId, @event, @type, @fromMember, @toMember, @actor, @at, @recordedAt, @body, @prevHash, @hash)`);
    this.selectLastCheckpoint = this.db.prepare(
      `SELECT seq, hash, signed_at AS signedAt, jws FROM checkpoints ORDER BY seq DESC, rowid DESC LIMIT 1`,
    );
    this.insertCheckpoint = this.db.prepare(`INSERT INTO checkpoints (seq, hash, signed_at, jws) VALUES (?, ?, ?, ?)`);
    this.appendInTransaction = this.db.transaction((events: BusEvent[], recordedAt: string) => {
      let head = this.head() ?? { seq: 0, hash: GENESIS_HASH };
      let appended = 0;
      for (const ev of events) {
        // Kafka delivers at least once: a redelivered event is already in the chain.
        if (this.selectEventId.get(ev.id)) continue;
        const columns = indexedColumns(ev);
        const body = canonicalJson(ev);
        const seq = head.seq + 1;
        const hash = entryHash(head.hash, { seq, eventId: ev.id, at: columns.at, recordedAt, body });
        this.insertEntry.run({ seq, eventId: ev.id, ...columns, recordedAt, body, prevHash: head.hash, hash });
        head = { seq, hash };
        appended++;
      }
      return appended;
    });
  }

  /**
   * Appends events in one transaction, skipping event ids already recorded. Returns how many
   * were appended. Throws (appending nothing) if any event fails auditEventProblem: callers
   * turn such records into 'rejected' entries first, see audit-service.ts.
   */
  appendBatch(events: BusEvent[]): number {
    if (events.length === 0) return 0;
    for (const ev of events) {
      const problem = auditEventProblem(ev);
      if (problem) throw new TypeError(`not a valid audit event: ${problem}`);
    }
    return this.appendInTransaction(events, new Date().toISOString());
  }

  head(): ChainHead | null {
    return (this.selectHead.get() as ChainHead | undefined) ?? null;
  }

  count(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM entries`).get() as { n: number }).n;
  }

  lastCheckpoint(): Checkpoint | null {
    return (this.selectLastCheckpoint.get() as Checkpoint | undefined) ?? null;
  }

  /** Signs the chain head if it moved since the last checkpoint; returns the new checkpoint or null. */
  async checkpoint(key: SigningKey): Promise<Checkpoint | null> {
    const head = this.head();
    const last = this.lastCheckpoint();
    if (!head || (last && last.seq >= head.seq)) return null;
    const signedAt = new Date().toISOString();
    const jws = await new CompactSign(new TextEncoder().encode(checkpointPayload({ seq: head.seq, hash: head.hash, at: signedAt })))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: CHECKPOINT_JWS_TYPE })
      .sign(key.key);
    // Entries appended while signing only move the head further; the signed one stays valid.
    this.insertCheckpoint.run(head.seq, head.hash, signedAt, jws);
    return { seq: head.seq, hash: head.hash, signedAt, jws };
  }

  /** Newest first. Throws RangeError for an invalid time bound. */
  query(q: AuditQuery = {}): AuditPage {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (q.messageId !== undefined) {
      where.push('message_id = @messageId');
      params.messageId = q.messageId;
    }
    if (q.member !== undefined) {
      where.push('(from_member = @member OR to_member = @member)');
      params.member = q.member;
    }
    if (q.type !== undefined) {
      where.push('type = @type');
      params.type = q.type;
    }
    if (q.event !== undefined) {
      where.push('event = @event');
      params.event = q.event;
    }
    // `at` is stored in toISOString() form, so string order is time order.
    if (q.from !== undefined) {
      where.push('at >= @from');
      params.from = isoOrThrow(q.from, 'from');
    }
    if (q.to !== undefined) {
      where.push('at < @to');
      params.to = isoOrThrow(q.to, 'to');
    }
    if (q.before !== undefined) {
      where.push('seq < @before');
      params.before = q.before;
    }
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_QUERY_LIMIT)), MAX_QUERY_LIMIT);
    // One row more than asked tells whether an older page exists.
    params.limit = limit + 1;
    const sql = `SELECT seq, recorded_at, prev_hash, hash, body FROM entries
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    const rows = this.db.prepare(sql).all(params) as EntryRow[];
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

  close(): void {
    if (this.db.open) this.db.close();
  }
}
