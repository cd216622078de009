// The pull inbox as the gateway serves it (GET /v1/inbox): messages the runtime deposited for
// systems that poll, until the system acknowledges them. Kafka's lgsp.inbox topic is the
// record; this PostgreSQL table is the gateways' shared, queryable copy, rebuilt from the
// topic if lost.
// An acknowledged item keeps its row (acked_at set) so a late duplicate deposit of the same
// message id cannot bring it back, but not its payload: it is never served again, and the
// content (a dossier's, personal data included) has no business staying in the database once
// the receiving system took it. The envelope keeps its metadata without `data`.
import type { Envelope } from '../platform/envelope.js';
import type { Database, Queryable } from '../platform/database.js';

export interface InboxItem {
  cursor: number;
  id: string;
  system: string;
  /** The member the item was sent to (its envelope's to.member): the inbox is per member and system. */
  member: string;
  type: string;
  depositedAt: string;
  ackedAt: string | null;
  envelope: Envelope<Record<string, unknown>>;
  /**
   * Why the payload cannot be opened (its key lost, or the row tampered with): the item keeps
   * its metadata, its `data` is empty, and the rest of the inbox is served as usual.
   */
  unreadable?: string;
}

interface Row {
  cursor: number;
  id: string;
  system: string;
  member: string;
  type: string;
  depositedAt: string;
  ackedAt: string | null;
  envelope: string;
}

/** Opens an envelope's sealed payload (the gateway's PayloadSealing); the ledger only writes. */
export type EnvelopeOpener = (envelope: Envelope) => Envelope;
const COLUMNS = 'cursor, id, system, member, type, deposited_at AS "depositedAt", acked_at AS "ackedAt", envelope';
/** An envelope's JSON text without its (sealed) payload: what an acknowledged item keeps. */
const WITHOUT_PAYLOAD = (column: string) => `(${column}::jsonb - 'data')::text`;

export interface Deposit {
  envelope: Envelope;
  system: string;
  depositedAt: string;
}

export class InboxStore {
  /**
   * Rows keep the envelope as the runner deposited it, its payload sealed for the gateway:
   * `open` decrypts it when the entitled system reads its inbox.
   */
  constructor(
    private readonly db: Database,
    private readonly open: EnvelopeOpener = (e) => e,
  ) {}

  private toItem = (row: Row): InboxItem => {
    const stored = JSON.parse(row.envelope) as Envelope<Record<string, unknown>>;
    try {
      return { ...row, envelope: this.open(stored) as Envelope<Record<string, unknown>> };
    } catch (err) {
      return { ...row, envelope: { ...stored, data: {} }, unreadable: (err as Error).message };
    }
  };

  /**
   * Idempotent: a message id is deposited once, and stays acknowledged once acknowledged (an
   * acknowledgement that arrived first is applied to the deposit). One statement per batch.
   */
  async deposit(deposits: Deposit[], q: Queryable = this.db): Promise<void> {
    if (deposits.length === 0) return;
    await q.query(
      `INSERT INTO document_inbox (id, system, member, type, deposited_at, acked_at, envelope)
       SELECT t.id, t.system, t.member, t.type, t.at, a.acked_at, CASE WHEN a.acked_at IS NULL THEN t.envelope ELSE ${WITHOUT_PAYLOAD('t.envelope')} END
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(id, system, type, at, envelope, member, n)
         LEFT JOIN document_inbox_acks a ON a.id = t.id
        ORDER BY t.n
       ON CONFLICT (id) DO NOTHING`,
      [
        deposits.map((d) => d.envelope.id),
        deposits.map((d) => d.system),
        deposits.map((d) => d.envelope.type),
        deposits.map((d) => d.depositedAt),
        deposits.map((d) => JSON.stringify(d.envelope)),
        deposits.map((d) => d.envelope.to.member),
      ],
    );
  }

  async get(id: string): Promise<InboxItem | null> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM document_inbox WHERE id = $1`, [id]);
    return rows[0] ? this.toItem(rows[0]) : null;
  }

  /**
   * Unacknowledged items of a system sent to its member, oldest first, after a cursor; `type`
   * may be `edoc.*`. A system moved to another member does not see its old member's items.
   */
  async list(system: string, member: string, opts: { type?: string; after?: number; limit: number }): Promise<{ items: InboxItem[]; more: boolean }> {
    const family = opts.type?.endsWith('.*') ? `${opts.type.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%` : null;
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM document_inbox
        WHERE system = $1 AND acked_at IS NULL AND cursor > $2
          AND (($3::text IS NULL AND $4::text IS NULL) OR type = $3 OR type LIKE $4)
          AND member = $6
        ORDER BY cursor LIMIT $5`,
      // One row more than the page tells whether another page follows; it is not opened.
      [system, opts.after ?? 0, family ? null : opts.type ?? null, family, opts.limit + 1, member],
    );
    return { items: rows.slice(0, opts.limit).map(this.toItem), more: rows.length > opts.limit };
  }

  /** The highest cursor the bus has numbered an item with (0 when none): no `next` it gave is past it. */
  async newestCursor(): Promise<number> {
    const { rows } = await this.db.query<{ newest: string | null }>('SELECT max(cursor) AS newest FROM document_inbox');
    return Number(rows[0]?.newest ?? 0);
  }

  /**
   * What waits to be collected, by system: how many items and when the oldest was deposited
   * (the lowest cursor: deposits are numbered in order). Read through the waiting-items index.
   */
  async backlog(): Promise<Array<{ system: string; items: number; oldestDepositedAt: string }>> {
    const { rows } = await this.db.query<{ system: string; items: number; oldestDepositedAt: string }>(
      `SELECT w.system, w.items, i.deposited_at AS "oldestDepositedAt"
         FROM (SELECT system, count(*)::int AS items, min(cursor) AS oldest FROM document_inbox WHERE acked_at IS NULL GROUP BY system) w
         JOIN document_inbox i ON i.cursor = w.oldest`,
    );
    return rows;
  }

  /**
   * Records acknowledgements (also ones learned from lgsp.events before the deposit); returns
   * how many waiting items they closed.
   */
  async acknowledge(acks: { id: string; at: string }[], q: Queryable = this.db): Promise<number> {
    if (acks.length === 0) return 0;
    const ids = acks.map((a) => a.id);
    const ats = acks.map((a) => a.at);
    await q.query('INSERT INTO document_inbox_acks (id, acked_at) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [ids, ats]);
    const { rowCount } = await q.query(
      `UPDATE document_inbox i SET acked_at = t.at, envelope = ${WITHOUT_PAYLOAD('i.envelope')} FROM unnest($1::text[], $2::text[]) AS t(id, at) WHERE i.id = t.id AND i.acked_at IS NULL`,
      [ids, ats],
    );
    return rowCount ?? 0;
  }
}
