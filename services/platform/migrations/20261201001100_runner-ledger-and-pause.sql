-- Runner: the dedupe ledger (which messages each connector has already delivered) and the
-- operators' pause state, shared by every runner replica so that a partition moving to another
-- runner finds what was delivered before it moved, and a pause reaches every replica.

-- Up Migration
CREATE TABLE runner_delivered (
  connector    text NOT NULL,
  message_id   text NOT NULL,
  delivered_at timestamptz NOT NULL DEFAULT now(),
  -- true once the `delivered` (or `deposited`) event is on Kafka: a delivery whose event could
  -- not be published is announced on redelivery, without delivering twice.
  announced    boolean NOT NULL DEFAULT false,
  PRIMARY KEY (connector, message_id)
);
CREATE INDEX runner_delivered_by_time ON runner_delivered (delivered_at);

-- One row per connector an operator paused or resumed (absent = running), as Kafka Connect keeps
-- a connector's target state.
CREATE TABLE runner_connector_pause (
  connector  text PRIMARY KEY,
  paused     boolean NOT NULL,
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE runner_connector_pause;
DROP TABLE runner_delivered;
