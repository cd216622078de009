// Keeps the runners' delivered ledger (runner_delivered, delivery-ledger.ts) from growing for
// ever: one row per delivered message and connector, written on the message path, was never
// deleted, so the table and its two indexes grew with every message the province ever sent.
// A row is only useful while its record can be read again from Kafka (a redelivery after a
// crash or rebalance, a group whose committed offsets expired and went back to the earliest
// record): once the record is past the topics' retention, nothing can bring it back, and
// dead-letter replays are of messages that were never delivered. Rows older than the configured
// retention (config runnerDeliveredRetentionDays, well past Kafka's default 7 days) go.
//
// Every runner replica prunes (periodic-task.ts), each pass in bounded statements
// (batched-delete.ts; runner_delivered_by_time finds the rows).
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';
import { DELETE_BATCH_ROWS, deleteInBatches } from '../platform/batched-delete.js';
import { startRetentionSweep, type PeriodicTask } from '../platform/periodic-task.js';

export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

const DELETE_OLDER = `DELETE FROM runner_delivered
  WHERE (connector, message_id) IN (
    SELECT connector, message_id FROM runner_delivered WHERE delivered_at < $1 LIMIT $2)`;

/** Deletes the ledger's rows delivered before `cutoff`, `batchRows` per statement; the number deleted. */
export function pruneDeliveredBefore(db: Database, cutoff: Date, batchRows = DELETE_BATCH_ROWS, stopped: () => boolean = () => false): Promise<number> {
  return deleteInBatches(db, DELETE_OLDER, [cutoff], batchRows, stopped);
}

export type DeliveredLedgerRetention = PeriodicTask;

/**
 * Prunes the delivered ledger every `intervalMs` (the first pass within one interval of the
 * start, at a random moment); `retentionDays` 0 keeps every row.
 */
export function startDeliveredLedgerRetention(opts: { db: Database; retentionDays: number; log: Logger; intervalMs?: number }): DeliveredLedgerRetention {
  return startRetentionSweep({
    retentionDays: opts.retentionDays,
    intervalMs: opts.intervalMs ?? PRUNE_INTERVAL_MS,
    log: opts.log,
    prune: (cutoff, stopped) => pruneDeliveredBefore(opts.db, cutoff, DELETE_BATCH_ROWS, stopped),
    deletedLine: 'delivered ledger: rows past their retention deleted',
    failedLine: 'delivered ledger pruning failed',
  });
}
