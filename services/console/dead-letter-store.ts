// Dead letters as the console sees them: every record on lgsp.dlq.<connector>, with the reason
// and attempt count from its headers and the envelope's routing metadata (never the payload
// itself, which is only kept, as the raw signed record, so that it can be replayed unchanged).
// A replay is claimed in a transaction before the record is produced, so two operators (or a
// double click) cannot replay one dead letter twice; a failed produce releases the claim.
import type Database from 'better-sqlite3';

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
}

const VIEW_COLUMNS = `id, topic, partition, offset, connector, message_id AS messageId, reason, attempts,
  origin_topic AS originTopic, failed_at AS failedAt, verified, verify_reason AS verifyReason, type,
  from_member AS fromMember, from_system AS fromSystem, to_member AS toMember, to_service AS toService,
  correlation_id AS correlationId, payload_digest AS payloadDigest, size_bytes AS sizeBytes,
  replayed_at AS replayedAt, replayed_by AS replayedBy`;

type Row = Omit<DeadLetterView, 'verified'> & { verified: number };
const toView = (r: Row): DeadLetterView => ({ ...r, verified: r.verified === 1 });

export class DeadLetterStore {
  private readonly insert: Database.Statement;
  private readonly claim: Database.Statement;
  private readonly release: Database.Statement;
  private readonly complete: Database.Statement;
  private readonly byId: Database.Statement;
  private readonly depth: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL, partition INTEGER NOT NULL, offset TEXT NOT NULL,
        connector TEXT NOT NULL, message_id TEXT, reason TEXT NOT NULL, attempts INTEGER NOT NULL,
        origin_topic TEXT, failed_at TEXT NOT NULL,
        record_key TEXT, record_value BLOB, signature TEXT, verified INTEGER NOT NULL, verify_reason TEXT,
        type TEXT, from_member TEXT, from_system TEXT, to_member TEXT, to_service TEXT,
        correlation_id TEXT, payload_digest TEXT, size_bytes INTEGER NOT NULL,
        replay_claimed INTEGER NOT NULL DEFAULT 0, replayed_at TEXT, replayed_by TEXT,
        UNIQUE (topic, partition, offset));
      CREATE INDEX IF NOT EXISTS dead_letters_by_time ON dead_letters (failed_at);
      CREATE INDEX IF NOT EXISTS dead_letters_by_message ON dead_letters (message_id);
    `);
    this.insert = db.prepare(`INSERT OR IGNORE INTO dead_letters (topic, partition, offset, connector, message_id, reason,
        attempts, origin_topic, failed_at, record_key, record_value, signature, verified, verify_reason, type, from_member,
        from_system, to_member, to_service, correlation_id, payload_digest, size_bytes)
      VALUES (@topic, @partition, @offset, @connector, @messageId, @reason, @attempts, @originTopic, @failedAt, @key, @value,
        @signature, @verified, @verifyReason, @type, @fromMember, @fromSystem, @toMember, @toService, @correlationId,
        @payloadDigest, @sizeBytes)`);
    this.claim = db.prepare('UPDATE dead_letters SET replay_claimed = 1 WHERE id = ? AND replay_claimed = 0 AND replayed_at IS NULL');
    this.release = db.prepare('UPDATE dead_letters SET replay_claimed = 0 WHERE id = ? AND replayed_at IS NULL');
    // The record is no longer needed once replayed: a new failure makes a new dead letter.
    this.complete = db.prepare('UPDATE dead_letters SET replayed_at = ?, replayed_by = ?, record_value = NULL WHERE id = ?');
    this.byId = db.prepare(`SELECT ${VIEW_COLUMNS}, record_key AS key, record_value AS value, signature FROM dead_letters WHERE id = ?`);
    this.depth = db.prepare('SELECT connector, count(*) AS n FROM dead_letters WHERE replayed_at IS NULL GROUP BY connector');
  }

  add(dl: DeadLetterInput): boolean {
    const env = dl.envelope;
    const result = this.insert.run({
      topic: dl.topic,
      partition: dl.partition,
      offset: dl.offset,
      connector: dl.connector,
      messageId: dl.messageId,
      reason: dl.reason,
      attempts: dl.attempts,
      originTopic: dl.originTopic,
      failedAt: dl.failedAt,
      key: dl.key,
      value: dl.value,
      signature: dl.signature ? JSON.stringify(dl.signature) : null,
      verified: dl.verified ? 1 : 0,
      verifyReason: dl.verifyReason,
      type: typeof env?.type === 'string' ? env.type : null,
      fromMember: typeof env?.from?.member === 'string' ? env.from.member : null,
      fromSystem: typeof env?.from?.system === 'string' ? env.from.system : null,
      toMember: typeof env?.to?.member === 'string' ? env.to.member : null,
      toService: typeof env?.to?.service === 'string' ? env.to.service : null,
      correlationId: typeof env?.correlationId === 'string' ? env.correlationId : null,
      payloadDigest: typeof env?.payloadDigest === 'string' ? env.payloadDigest : null,
      sizeBytes: dl.value?.length ?? 0,
    });
    return result.changes > 0;
  }

  get(id: number): DeadLetterRecord | null {
    const row = this.byId.get(id) as (Row & { key: string | null; value: Buffer | null; signature: string | null }) | undefined;
    if (!row) return null;
    return { ...toView(row), key: row.key, value: row.value, signature: row.signature ? (JSON.parse(row.signature) as Record<string, string>) : null };
  }

  search(q: DeadLetterQuery): DeadLetterView[] {
    const { where, params } = this.filter(q);
    return (this.db
      .prepare(`SELECT ${VIEW_COLUMNS} FROM dead_letters ${where} ORDER BY failed_at DESC, id DESC LIMIT ?`)
      .all(...params, q.limit ?? 100) as Row[]).map(toView);
  }

  /** Ids of the not yet replayed dead letters matching a filter, oldest first (bulk replay order). */
  replayCandidates(q: DeadLetterQuery, max: number): number[] {
    const { where, params } = this.filter({ ...q, replayed: false });
    return (this.db.prepare(`SELECT id FROM dead_letters ${where} ORDER BY failed_at, id LIMIT ?`).all(...params, max) as { id: number }[]).map((r) => r.id);
  }

  private filter(q: DeadLetterQuery): { where: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const eq = (column: string, value: unknown) => {
      clauses.push(`${column} = ?`);
      params.push(value);
    };
    if (q.connector) eq('connector', q.connector);
    if (q.messageId) eq('message_id', q.messageId);
    if (q.type) eq('type', q.type);
    if (q.member) {
      clauses.push('(from_member = ? OR to_member = ?)');
      params.push(q.member, q.member);
    }
    if (q.reason) {
      clauses.push("instr(lower(reason), lower(?)) > 0");
      params.push(q.reason);
    }
    if (q.replayed !== undefined) clauses.push(q.replayed ? 'replayed_at IS NOT NULL' : 'replayed_at IS NULL');
    if (q.from) {
      clauses.push('failed_at >= ?');
      params.push(q.from);
    }
    if (q.to) {
      clauses.push('failed_at < ?');
      params.push(q.to);
    }
    return { where: clauses.length ? 'WHERE ' + clauses.join(' AND ') : '', params };
  }

  /** True when this caller now owns the replay of the dead letter. */
  claimReplay(id: number): boolean {
    return this.claim.run(id).changes === 1;
  }

  releaseReplay(id: number): void {
    this.release.run(id);
  }

  completeReplay(id: number, by: string, at = new Date().toISOString()): void {
    this.complete.run(at, by, id);
  }

  /** Not yet replayed dead letters per connector (Prometheus DLQ depth). */
  depthByConnector(): Map<string, number> {
    return new Map((this.depth.all() as { connector: string; n: number }[]).map((r) => [r.connector, r.n]));
  }
}
