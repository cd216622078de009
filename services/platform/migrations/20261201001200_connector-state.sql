-- ctx.state of connectors (connectors/sdk/state.ts): JSON values by key, namespaced per
-- connector, shared by every runner replica.

-- Up Migration
CREATE TABLE connector_state_entries (
  connector  text NOT NULL,
  key        text NOT NULL,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector, key)
);

-- Down Migration
DROP TABLE connector_state_entries;
