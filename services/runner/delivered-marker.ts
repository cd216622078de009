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
import type { DeliveryLedger, LedgerMark } from './delivery-ledger.js';

export class DeliveredMarker {
  private readonly marks: BatchedWriter<LedgerMark>;

  /** `lingerMs`: an idle marker waits this long for more deliveries (the runner's outcome window). */
  constructor(ledger: DeliveryLedger, lingerMs = 0) {
    this.marks = new BatchedWriter((marks) => ledger.markDeliveredMany(marks), { lingerMs });
  }

  /**
   * Resolves once `marks` are in the ledger; rejects if that statement failed (the caller marks
   * again before it publishes). The returned promise is already handled: awaiting it later is
   * safe even when it rejected meanwhile.
   */
  mark(marks: LedgerMark[]): Promise<void> {
    if (marks.length === 0) return Promise.resolve();
    const written = this.marks.write(marks);
    written.catch(() => undefined);
    return written;
  }
}
