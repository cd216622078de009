// Statements on the message path that PostgreSQL parses and plans once per connection, then
// only executes (a named prepared statement: pg sends Parse the first time a connection runs
// it, Bind/Execute after). Measured with pg_stat_statements at 100 msg/s: planning the gateway's
// insert of its 'accepted' rows took 434 ms against 553 ms of execution, the audit's chain
// insert 59 against 407.
//
// Only for statements whose plan cannot depend on the table's contents nor on a batch's size:
// inserts from unnest()/jsonb_array_elements() of their parameters (the plan is the same for one
// row or five hundred). After five runs PostgreSQL may switch a prepared statement to a generic
// plan, made without the parameters' values: for the runner's `message_id = ANY($2)` lookup that
// plan was a bitmap scan of *every* row of the connector, filtered on the heap (EXPLAIN on the
// bench's tables) — a cost growing with the ledger, which made an earlier, wider use of prepared
// statements read dearer, not cheaper. Lookups and joins stay unprepared.
//
// Only for fixed statement text (values always go in parameters): each distinct text stays
// prepared on every connection that ran it, for the connection's life.
import { createHash } from 'node:crypto';

export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

export function prepared(text: string): PreparedStatement {
  // Named after the text, so two modules preparing the same statement share it and a changed
  // statement (a new release) never meets the old one's plan under the same name.
  return { name: `lgsp_${createHash('sha256').update(text).digest('base64url').slice(0, 20)}`, text };
}
