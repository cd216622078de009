// One message's ledger state, asked for when its record is about to run and the answer read
// with its fetched batch is no longer fresh (connector-worker.ts, ledgerState). Asked one id at a
// time, that was one statement per record exactly when the runner was busiest: under load
// records wait in the dispatcher past the freshness bound, and a bench run read 0.8 lookups per
// delivered message, most of them for a single id. Coalesced by BatchedWriter: one statement in
// flight, every id asked for meanwhile in the next, never in the one already running, so an
// answer is never older than the question. Kept apart from the runner's batch lookup of fetched
// records, so a request due now does not wait behind that (possibly long) statement.
import { BatchedWriter } from '../platform/batched-writer.js';
import type { DeliveryLedger, LedgerState } from './delivery-ledger.js';

export class CoalescedLedgerLookups {
  private readonly lookups: BatchedWriter<string, Map<string, LedgerState>>;

  constructor(ledger: Pick<DeliveryLedger, 'lookupMany'>) {
    this.lookups = new BatchedWriter((ids) => ledger.lookupMany([...new Set(ids)]));
  }

  /** Whether the ledger holds `id`; rejects when the statement failed (PostgreSQL unavailable). */
  async state(id: string): Promise<LedgerState | 'no'> {
    return (await this.lookups.write([id])).get(id) ?? 'no';
  }
}
