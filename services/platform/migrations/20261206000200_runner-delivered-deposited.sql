-- The runner's delivered ledger records whether a connector's hand-over was a deposit into a pull
-- inbox (outcome 'deposited') rather than a delivery. A runner that finds a row unannounced (its
-- predecessor died between the ledger write and the outcome event) announces what happened:
-- `deposited` for a deposit (`delivered` follows when the system acknowledges it), not
-- `delivered`. Rows written before this column are deliveries (the default). Adding a column
-- with a constant default rewrites nothing.

-- Up Migration
ALTER TABLE runner_delivered ADD COLUMN deposited boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE runner_delivered DROP COLUMN deposited;
