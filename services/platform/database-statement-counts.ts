// PostgreSQL statements this process sent, by pool, for /metrics
// (`lgsp_db_statements_total{pool}`) and the bench. Every statement is a round trip: a socket
// write here, a wake-up and a write in a server backend, and an answer to read — on a small
// machine that costs the bus more than the rows it moves. `begin`, `commit` and `rollback` count
// too: a transaction of one statement is three round trips.
const sent = new Map<string, number>();

/** Counts one statement sent on `pool`. */
export function countStatement(pool: string): void {
  sent.set(pool, (sent.get(pool) ?? 0) + 1);
}

/** Statements sent so far by this process, by pool name. */
export function databaseStatementTotals(): Iterable<[{ pool: string }, number]> {
  return [...sent].map(([pool, n]) => [{ pool }, n]);
}
