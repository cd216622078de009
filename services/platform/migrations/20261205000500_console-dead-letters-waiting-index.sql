-- The dead letters still waiting for a replay, by connector: what every Prometheus scrape of the
-- console reads (lgsp_dlq_depth, the alert on dead letters waiting), and the console's overview,
-- dead-letter and connector pages. Without an index it read every dead letter ever kept — a
-- table that only grows — at each scrape; this one holds the waiting ones only, usually few,
-- and answers the count from the index alone.

-- Up Migration
CREATE INDEX console_dead_letters_waiting ON console_dead_letters (connector) WHERE replayed_at IS NULL;

-- Down Migration
DROP INDEX console_dead_letters_waiting;
