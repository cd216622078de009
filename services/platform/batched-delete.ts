// Deleting rows that expire (Idempotency-Keys, the runners' delivered ledger) a bounded number
// per statement: one DELETE of everything expired is one transaction that holds every row lock
// and writes all its WAL at once — at a busy bus's rates hundreds of thousands of rows every few
// minutes, next to the inserts of the message path — and a second instance sweeping meanwhile
// waits on those locks. In batches each statement is short, and the next instance to sweep finds
// little left.
import type { Database } from './database.js';

export const DELETE_BATCH_ROWS = 5000;

/**
 * Runs `statement` until it deletes fewer than `batchRows` rows (or `stopped()` says so) and
 * returns how many it deleted. Its last parameter is the batch size: the statement deletes at
 * most that many rows, e.g. `DELETE FROM t WHERE k IN (SELECT k FROM t WHERE expired LIMIT $n)`.
 */
export async function deleteInBatches(db: Database, statement: string, params: unknown[], batchRows = DELETE_BATCH_ROWS, stopped: () => boolean = () => false): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.query(statement, [...params, batchRows]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchRows || stopped()) return deleted;
  }
}
