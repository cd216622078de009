// Writes "delivered" into the ledger as deliveries finish, apart from publishing their outcome
// events. The two used to share one loop: a produce that hung (a broker restarting, leaders
// moving) held the ledger write of every delivery made meanwhile, so a runner killed then had
// seconds of deliveries the ledger did not know, and whoever took its partitions delivered them
// all again (1,659 duplicates in a runner-kill just after a broker-kill). Now the ledger hears of
// a delivery one statement after it happens, whatever Kafka does. One statement is in flight at
// a time with everything finished meanwhile batched behind it (BatchedWriter), so under load a
// statement carries many ids; at low load an idle marker waits the runner's outcome window
// (milliseconds, bounded, unlike a hung produce) so deliveries finishing together share one.
import { BatchedWriter } from '../platform/batched-writer.js';
import type { DeliveryLedger } from './delivery-ledger.js';

export class DeliveredMarker {
  private readonly marks: BatchedWriter<string>;

  /** `lingerMs`: an idle marker waits this long for more deliveries (the runner's outcome window). */
  constructor(ledger: DeliveryLedger, lingerMs = 0) {
    this.marks = new BatchedWriter((ids) => ledger.markDeliveredMany(ids), { lingerMs });
  }

  /**
   * Resolves once `ids` are in the ledger; rejects if that statement failed (the caller marks
   * again before it publishes). The returned promise is already handled: awaiting it later is
   * safe even when it rejected meanwhile.
   */
  mark(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    const written = this.marks.write(ids);
    written.catch(() => undefined);
    return written;
  }
}
