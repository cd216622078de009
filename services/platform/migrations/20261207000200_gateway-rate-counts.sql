-- Rate limits per client across every gateway (services/gateway/shared-rate-limit.ts): what each
-- gateway counted of a client's requests in one window (a minute of the clock, numbered from the
-- epoch), written again as it grows; a client's count is the sum over gateways. Rows of windows
-- before the last are deleted by the gateways as they go.

-- Up Migration
CREATE TABLE gateway_rate_counts (
  window_index bigint  NOT NULL,
  client_id    text    NOT NULL,
  gateway      text    NOT NULL,
  hits         integer NOT NULL,
  PRIMARY KEY (window_index, client_id, gateway)
);

INSERT INTO platform_role_grants (role, table_name, privileges) VALUES
  ('lgsp_gateway', 'gateway_rate_counts', 'SELECT, INSERT, UPDATE, DELETE')
ON CONFLICT (role, table_name) DO UPDATE SET privileges = excluded.privileges;
SELECT platform_apply_role_grants();

-- Down Migration
DELETE FROM platform_role_grants WHERE table_name = 'gateway_rate_counts';
DROP TABLE gateway_rate_counts;
