// Dead letters as the console sees them: every record on lgsp.dlq.<connector>, with the reason
// and attempt count from its headers and the envelope's routing metadata (never the payload
// itself, which is only kept, as the raw signed record, so that it can be replayed unchanged).
// A replay is claimed by one conditional update before the record is produced, so two
// operators (or a double click, or two console instances) cannot replay one dead letter twice;
// a failed produce releases the claim. Rows live in PostgreSQL (console_dead_letters).
import type { Database, Queryable } from '../platform/database.js';

/**
 * The reason the runner gives a genuine record (its signature verified) whose payload no key of
 * its keyring opens: unlike its other refusals this one goes away once the key is back (restored
 * from a backup, or a Secret mounted late), so such a dead letter may be replayed.
 */
export const UNDECRYPTABLE_REASON_PREFIX = 'rejected: payload cannot be decrypted:';

/**
 * The reason the runner gives a record signed with a key its public keyset does not hold (es256.ts
 * UnknownKeyError): a keyset restored from a copy older than a rotation refuses every genuine
 * record signed since, and the refusal goes away once the keyset is put right. A replay verifies
 * the record again against the keyset of then (DeadLetterReplayer): a forged record, signed by
 * no platform key, is still refused.
 */
export const UNKNOWN_KEY_REASON_PREFIX = 'rejected: signature verification failed: no platform key with kid';

/** Whether the runner refused the record for a reason a replay would meet again (forged, unsigned, expired, misrouted). */
export function refusedForGood(reason: string): boolean {
  return reason.startsWith('rejected:') && !reason.startsWith(UNDECRYPTABLE_REASON_PREFIX) && !reason.startsWith(UNKNOWN_KEY_REASON_PREFIX);
}

/** Read at every scrape of the console's metrics: served by the console_dead_letters_waiting index. */
export const WAITING_BY_CONNECTOR = 'SELECT connector, count(*)::bigint AS n FROM console_dead_letters WHERE replayed_at IS NULL GROUP BY connector';
/** What DeadLetterReplayer.replay refuses whatever the time (a signature may still expire later). */
// A record the console could not verify when it indexed it is still maybe replayable when the
// runner's refusal was an unknown key: the replay verifies it again against the keyset of then.
const MAYBE_REPLAYABLE = `(record_value IS NOT NULL AND signature IS NOT NULL AND origin_topic IS NOT NULL
  AND ((verified AND (reason NOT LIKE 'rejected:%' OR starts_with(reason, '${UNDECRYPTABLE_REASON_PREFIX}'))) OR starts_with(reason, '${UNKNOWN_KEY_REASON_PREFIX}')))`;

export interface DeadLetterInput {
  topic: string;
  partition: number;
  offset: string;
  connector: string;
  messageId: string | null;
  reason: string;
  attempts: number;
  originTopic: string | null;
  failedAt: string;
  key: string | null;
  value: Buffer | null;
  signature: Record<string, string> | null;
  verified: boolean;
  verifyReason: string | null;
  envelope: {
    type?: string;
    from?: { member?: string; system?: string };
    to?: { member?: string; service?: string };
    correlationId?: string;
    payloadDigest?: string;
  } | null;
}

export interface DeadLetterView {
  id: number;
  topic: string;
  partition: number;
  offset: string;
  connector: string;
  messageId: string | null;
  reason: string;
  attempts: number;
  originTopic: string | null;
  failedAt: string;
  verified: boolean;
  verifyReason: string | null;
  type: string | null;
  fromMember: string | null;
  fromSystem: string | null;
  toMember: string | null;
  toService: string | null;
  correlationId: string | null;
  payloadDigest: string | null;
  sizeBytes: number;
  replayedAt: string | null;
  replayedBy: string | null;
}

export interface DeadLetterRecord extends DeadLetterView {
  key: string | null;
  value: Buffer | null;
  signature: Record<string, string> | null;
}

export interface DeadLetterQuery {
  connector?: string;
  member?: string;
  type?: string;
  messageId?: string;
  reason?: string;
  replayed?: boolean;
  from?: string;
  to?: string;
  limit?: number;
  /** The id of the last dead letter of the previous page: the next page starts after it. */
  before?: number;
  /**
   * Replay counts and candidates only: the connectors the bus runs. A dead letter of another
   * (removed, renamed) has no reader for its retry topic and is counted as not replayable.
   */
  runnableConnectors?: readonly string[];
}

const VIEW_COLUMNS = `id, topic, "partition", record_offset AS "offset", connector, message_id AS "messageId", reason, attempts,
  origin_topic AS "originTopic", failed_at AS "failedAt", verified, verify_reason AS "verifyReason", type,
  from_member AS "fromMember", from_system AS "fromSystem", to_member AS "toMember", to_service AS "toService",
  correlation_id AS "correlationId", payload_digest AS "payloadDigest", size_bytes AS "sizeBytes",
  replayed_at AS "replayedAt", replayed_by AS "replayedBy"`;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class DeadLetterStore {
  constructor(private readonly db: Database) {}

  /** False when this record (topic, partition, offset) is already stored: a redelivery. `q`: a transaction to write in. */
  async add(dl: DeadLetterInput, q: Queryable = this.db): Promise<boolean> {
    const env = dl.envelope;
    const result = await q.query(
      `INSERT INTO console_dead_letters (topic, "partition", record_offset, connector, message_id, reason, attempts, origin_topic,
         failed_at, record_key, record_value, signature, verified, verify_reason, type, from_member, from_system, to_member,
         to_service, correlation_id, payload_digest, size_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
       ON CONFLICT (topic, "partition", record_offset) DO NOTHING`,
      [
        dl.topic, dl.partition, dl.offset, dl.connector, dl.messageId, dl.reason, dl.attempts, dl.originTopic, dl.failedAt,
        dl.key, dl.value, dl.signature ? JSON.stringify(dl.signature) : null, dl.verified, dl.verifyReason,
        str(env?.type), str(env?.from?.member), str(env?.from?.system), str(env?.to?.member), str(env?.to?.service),
        str(env?.correlationId), str(env?.payloadDigest), dl.value?.length ?? 0,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async get(id: number): Promise<DeadLetterRecord | null> {
    const { rows } = await this.db.query<DeadLetterView & { key: string | null; value: Buffer | null; signature: string | null }>(
      `SELECT ${VIEW_COLUMNS}, record_key AS key, record_value AS value, signature FROM console_dead_letters WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    return { ...row, signature: row.signature ? (JSON.parse(row.signature) as Record<string, string>) : null };
  }

  /** Newest failure first; `nextBefore` (the last item's id) pages on, null on the last page. */
  async search(q: DeadLetterQuery): Promise<{ items: DeadLetterView[]; nextBefore: number | null }> {
    const { where, params } = this.filter(q);
    const limit = q.limit ?? 100;
    params.push(limit + 1);
    const { rows } = await this.db.query<DeadLetterView>(`SELECT ${VIEW_COLUMNS} FROM console_dead_letters ${where} ORDER BY failed_at DESC, id DESC LIMIT $${params.length}`, params);
    const items = rows.slice(0, limit);
    return { items, nextBefore: rows.length > limit ? items[items.length - 1].id : null };
  }

  /**
   * Unreplayed dead letters matching `q` that may be replayable, oldest first (bulk replay order),
   * after the dead letter `after` when given. Those that never can be (unsigned or failing
   * verification when they arrived, refused by the runner's checks, no work topic to return to)
   * are left out: a bulk replay taking them again and again would never reach the others.
   */
  async replayCandidates(q: DeadLetterQuery, max: number, after?: number): Promise<Array<{ id: number; messageId: string | null; connector: string }>> {
    const { where, params } = this.filter({ ...q, replayed: false });
    const clauses = [where ? where : 'WHERE true', this.replayable(q, params)];
    if (after !== undefined) {
      params.push(after);
      clauses.push(`(failed_at, id) > (SELECT failed_at, id FROM console_dead_letters WHERE id = $${params.length})`);
    }
    params.push(max);
    const { rows } = await this.db.query<{ id: number; message_id: string | null; connector: string }>(
      `SELECT id, message_id, connector FROM console_dead_letters ${clauses.join(' AND ')} ORDER BY failed_at, id LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => ({ id: r.id, messageId: r.message_id, connector: r.connector }));
  }

  /** Unreplayed dead letters matching `q`, by whether a replay may take them (see replayCandidates). */
  async countReplayable(q: DeadLetterQuery): Promise<{ replayable: number; notReplayable: number }> {
    const { where, params } = this.filter({ ...q, replayed: false });
    const replayable = this.replayable(q, params);
    const { rows } = await this.db.query<{ replayable: number; not_replayable: number }>(
      `SELECT count(*) FILTER (WHERE ${replayable})::integer AS replayable, count(*) FILTER (WHERE NOT (${replayable}))::integer AS not_replayable FROM console_dead_letters ${where}`,
      params,
    );
    return { replayable: rows[0].replayable, notReplayable: rows[0].not_replayable };
  }

  /** The condition a replay may take a row on (MAYBE_REPLAYABLE, of a connector the bus runs). */
  private replayable(q: DeadLetterQuery, params: unknown[]): string {
    if (!q.runnableConnectors) return MAYBE_REPLAYABLE;
    params.push([...q.runnableConnectors]);
    return `(${MAYBE_REPLAYABLE} AND connector = ANY($${params.length}::text[]))`;
  }

  private filter(q: DeadLetterQuery): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const p = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (q.connector) clauses.push(`connector = ${p(q.connector)}`);
    if (q.messageId) clauses.push(`message_id = ${p(q.messageId)}`);
    if (q.type) clauses.push(`type = ${p(q.type)}`);
    if (q.member) {
      const m = p(q.member);
      clauses.push(`(from_member = ${m} OR to_member = ${m})`);
    }
    if (q.reason) clauses.push(`strpos(lower(reason), lower(${p(q.reason)})) > 0`);
    if (q.replayed !== undefined) clauses.push(q.replayed ? 'replayed_at IS NOT NULL' : 'replayed_at IS NULL');
    if (q.from) clauses.push(`failed_at >= ${p(q.from)}`);
    if (q.to) clauses.push(`failed_at < ${p(q.to)}`);
    // Compared with the cursor row's own stored time: exact, whatever precision it has.
    if (q.before !== undefined) clauses.push(`(failed_at, id) < (SELECT failed_at, id FROM console_dead_letters WHERE id = ${p(q.before)})`);
    return { where: clauses.length ? 'WHERE ' + clauses.join(' AND ') : '', params };
  }

  /** True when this caller now owns the replay of the dead letter. */
  async claimReplay(id: number): Promise<boolean> {
    const r = await this.db.query('UPDATE console_dead_letters SET replay_claimed = true WHERE id = $1 AND NOT replay_claimed AND replayed_at IS NULL', [id]);
    return r.rowCount === 1;
  }

  async releaseReplay(id: number): Promise<void> {
    await this.db.query('UPDATE console_dead_letters SET replay_claimed = false WHERE id = $1 AND replayed_at IS NULL', [id]);
  }

  /** The record is no longer needed once replayed: a new failure makes a new dead letter. */
  async completeReplay(id: number, by: string, at = new Date().toISOString()): Promise<void> {
    await this.db.query('UPDATE console_dead_letters SET replayed_at = $1, replayed_by = $2, record_value = NULL WHERE id = $3', [at, by, id]);
  }

  /** Not yet replayed dead letters per connector (Prometheus DLQ depth). */
  async depthByConnector(): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ connector: string; n: number }>(WAITING_BY_CONNECTOR);
    return new Map(rows.map((r) => [r.connector, r.n]));
  }
}
