-- The runner's delivered ledger: every row is inserted (delivered) and updated once soon after
-- (announced, once the outcome event is on Kafka). Neither indexed column changes, so the update
-- can be a HOT update (no new index entries) when the row's page has room for its new version;
-- packed full by inserts, almost none had (435 of 12,243 in a bench run with pg_stat_user_tables,
-- docs/measurements-log.md), and each update wrote a new entry into both indexes. Half-full pages
-- leave that room. Takes effect for pages written from now on.

-- Up Migration
ALTER TABLE runner_delivered SET (fillfactor = 50);

-- Down Migration
ALTER TABLE runner_delivered RESET (fillfactor);
