// Which messages a connector has already delivered, so a record seen again (redelivery after a
// crash or rebalance, a duplicate produce, a replay of something already delivered) is not
// handed to the destination twice. The ledger lives in PostgreSQL, shared by every runner
// replica: when the group rebalances and a partition moves to another runner, the ledger is
// already there. Every call takes a whole chunk of messages, so a Kafka batch costs one
// statement per step (look up, mark delivered, mark announced), not one per message.
import type { Database } from '../platform/database.js';
import { prepared } from '../platform/prepared-statement.js';

const MARK_DELIVERED = prepared(
  'INSERT INTO runner_delivered (connector, message_id, deposited) SELECT $1, d.id, d.deposited FROM unnest($2::text[], $3::boolean[]) AS d (id, deposited) ON CONFLICT DO NOTHING',
);

/**
 * 'unannounced' / 'deposited-unannounced': recorded, its outcome event not known to be published;
 * the second a deposit into a pull inbox (announced as `deposited`, not `delivered`).
 */
export type LedgerState = 'announced' | 'unannounced' | 'deposited-unannounced';

/** A message handed over: delivered, or deposited into a pull inbox (outcome 'deposited'). */
export interface LedgerMark {
  id: string;
  deposited?: boolean;
}

export class DeliveryLedger {
  constructor(
    private readonly db: Database,
    private readonly connector: string,
  ) {}

  /** The recorded messages among `ids`: whether each one's `delivered` event was published. Absent = not delivered. */
  async lookupMany(ids: string[]): Promise<Map<string, LedgerState>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.query<{ message_id: string; announced: boolean; deposited: boolean }>(
      'SELECT message_id, announced, deposited FROM runner_delivered WHERE connector = $1 AND message_id = ANY($2::text[])',
      [this.connector, ids],
    );
    return new Map(rows.map((r) => [r.message_id, r.announced ? 'announced' : r.deposited ? 'deposited-unannounced' : 'unannounced']));
  }

  /** One statement (one commit) for a whole chunk of deliveries. */
  async markDeliveredMany(marks: LedgerMark[]): Promise<void> {
    if (marks.length === 0) return;
    // Sorted: two runners inserting overlapping chunks (just after a rebalance) lock rows in the
    // same order and cannot deadlock.
    const sorted = [...marks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await this.db.query(
      MARK_DELIVERED,
      [this.connector, sorted.map((m) => m.id), sorted.map((m) => m.deposited === true)],
    );
  }

  async markAnnouncedMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      'UPDATE runner_delivered SET announced = true WHERE connector = $1 AND message_id = ANY($2::text[]) AND NOT announced',
      [this.connector, [...ids].sort()],
    );
  }
}
