// The plan PostgreSQL would use for a statement when it may not read a table from end to end
// (enable_seqscan off, this transaction only): what tests read to check that an index can serve
// a query at all, whatever the planner would pick on a small test table.
import type { Database } from '../../services/platform/database.js';

/** EXPLAIN (FORMAT JSON) of `sql` with sequential scans off, as one JSON text. */
export async function planWithoutSeqScan(db: Database, sql: string, params: unknown[] = []): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    return JSON.stringify(rows[0]['QUERY PLAN']);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
