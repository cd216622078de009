// One message's ledger state, asked for when its record is about to run and the answer read
// with its fetched batch is no longer fresh (connector-worker.ts, ledgerState). Asked one id at a
// time, that was one statement per record exactly when the runner was busiest: under load
// records wait in the dispatcher past the freshness bound, and a bench run read 0.8 lookups per
// delivered message, most of them for a single id. Coalesced here: one statement in flight, and
// every id asked for meanwhile goes in the next one. An id asked for while a statement runs is
// answered by the next statement, never by the one already running, so an answer is never older
// than the question.
import type { DeliveryLedger, LedgerState } from './delivery-ledger.js';

interface Waiter {
  resolve(state: LedgerState | 'no'): void;
  reject(err: unknown): void;
}

export class CoalescedLedgerLookups {
  private waiting = new Map<string, Waiter[]>();
  private running = false;

  constructor(private readonly ledger: Pick<DeliveryLedger, 'lookupMany'>) {}

  /** Whether the ledger holds `id`; rejects when the statement failed (PostgreSQL unavailable). */
  state(id: string): Promise<LedgerState | 'no'> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
      if (!this.running) {
        this.running = true;
        // The next turn of the event loop: the records started in this one share the statement.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.size > 0) {
        const batch = this.waiting;
        this.waiting = new Map();
        try {
          const known = await this.ledger.lookupMany([...batch.keys()]);
          for (const [id, waiters] of batch) for (const w of waiters) w.resolve(known.get(id) ?? 'no');
        } catch (err) {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
