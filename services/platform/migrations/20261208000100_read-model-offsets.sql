-- The read models' own consumed offsets (services/platform/read-model-offsets.ts): the ledger
-- (lgsp-ledger: statuses, timelines, pull inboxes), the audit (lgsp-audit: the hash chain) and the
-- console's dead-letter index (lgsp-console-<store id>) write, in the transaction of the rows a
-- batch produced, the next offset of each partition they applied, as Kafka Connect sinks keep
-- theirs. Their groups' offsets are on Kafka: after a restore from a dump older than the bus they
-- were past what the database held, and everything after the dump answered 404 for ever unless an
-- operator reset three groups by hand. A restored database carries the offsets of its own moment;
-- at a partition's assignment the consumer seeks back to them (signed-consumer.ts). The runners'
-- groups (lgsp-connector-*) never write here: rewinding them would deliver again.

-- Up Migration
CREATE TABLE read_model_offsets (
  -- the consumer group (prefixed like the topics)
  consumer    text NOT NULL,
  topic       text NOT NULL,
  "partition" integer NOT NULL,
  -- the offset of the next record to apply (Kafka's committed-offset convention)
  next_offset bigint NOT NULL,
  PRIMARY KEY (consumer, topic, "partition")
);

-- The runner hosts the ledger; the audit and the console write their own groups' rows.
INSERT INTO platform_role_grants (role, table_name, privileges) VALUES
  ('lgsp_runner', 'read_model_offsets', 'SELECT, INSERT, UPDATE'),
  ('lgsp_audit', 'read_model_offsets', 'SELECT, INSERT, UPDATE'),
  ('lgsp_console', 'read_model_offsets', 'SELECT, INSERT, UPDATE');
SELECT platform_apply_role_grants();

-- Down Migration
DELETE FROM platform_role_grants WHERE table_name = 'read_model_offsets';
DROP TABLE read_model_offsets;
