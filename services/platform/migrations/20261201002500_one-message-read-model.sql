-- One message read model (issue 11, Lean data path). The gateways served status and timelines
-- from gateway_messages and gateway_message_events while the console had console_messages and
-- console_message_events: the ledger wrote every event to both, the same facts twice — about a
-- third of the bus's row writes per delivered message. The gateways now read and write the
-- console's tables (services/gateway/message-store.ts), and theirs go.
--
-- What only the gateway tables hold is copied first: messages accepted whose first outcome has
-- not been applied yet (the ledger writes a message's console row from that outcome), with
-- their 'accepted' step under the id both writers now give it (<message id>:accepted).

-- Up Migration
INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id,
                              status, status_at, accepted_at, last_event_at)
SELECT m.id, m.type, CASE WHEN position('.' IN m.type) > 1 THEN split_part(m.type, '.', 1) ELSE m.type END,
       m.from_member, m.from_system, m.to_member, m.to_service, m.correlation_id, m.status, m.accepted_at, m.accepted_at, m.accepted_at
  FROM gateway_messages m
 WHERE NOT EXISTS (SELECT 1 FROM console_messages c WHERE c.id = m.id)
ON CONFLICT (id) DO NOTHING;

INSERT INTO console_message_events (event_id, message_id, event, at, actor, detail)
SELECT CASE WHEN e.event = 'accepted' THEN e.message_id || ':accepted' ELSE e.event_id END,
       e.message_id, e.event, e.at, CASE WHEN e.event = 'accepted' THEN 'gateway' END, e.detail::text
  FROM gateway_message_events e
 WHERE NOT EXISTS (SELECT 1 FROM console_message_events c WHERE c.message_id = e.message_id)
 ORDER BY e.seq
ON CONFLICT (event_id) DO NOTHING;

-- The gateway: status and timelines it writes (accepted steps, its own events) and removes (a
-- message Kafka refused after its row was written).
DELETE FROM platform_role_grants WHERE table_name IN ('gateway_messages', 'gateway_message_events');
INSERT INTO platform_role_grants (role, table_name, privileges) VALUES
  ('lgsp_gateway', 'console_messages', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_gateway', 'console_message_events', 'SELECT, INSERT, DELETE')
ON CONFLICT (role, table_name) DO UPDATE SET privileges = excluded.privileges;
SELECT platform_apply_role_grants();

DROP TABLE gateway_message_events;
DROP TABLE gateway_messages;

-- Down Migration
CREATE TABLE gateway_messages (
  id             text PRIMARY KEY,
  type           text NOT NULL,
  from_member    text NOT NULL,
  from_system    text NOT NULL,
  to_member      text NOT NULL,
  to_service     text NOT NULL,
  correlation_id text NOT NULL,
  status         text NOT NULL,
  accepted_at    text NOT NULL
);
CREATE TABLE gateway_message_events (
  event_id   text PRIMARY KEY,
  message_id text NOT NULL,
  seq        bigserial NOT NULL,
  event      text NOT NULL,
  at         text NOT NULL,
  detail     jsonb
);
CREATE INDEX gateway_message_events_by_message ON gateway_message_events (message_id, at, seq);

INSERT INTO gateway_messages (id, type, from_member, from_system, to_member, to_service, correlation_id, status, accepted_at)
SELECT id, type, from_member, from_system, to_member, to_service, correlation_id, status, coalesce(accepted_at, last_event_at)
  FROM console_messages;
INSERT INTO gateway_message_events (event_id, message_id, event, at, detail)
SELECT event_id, message_id, event, at, detail::jsonb FROM console_message_events ORDER BY seq;

DELETE FROM platform_role_grants WHERE role = 'lgsp_gateway' AND table_name IN ('console_messages', 'console_message_events');
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lgsp_gateway') THEN
    REVOKE ALL ON console_messages, console_message_events FROM lgsp_gateway;
  END IF;
END $$;
INSERT INTO platform_role_grants (role, table_name, privileges) VALUES
  ('lgsp_gateway', 'gateway_messages', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_gateway', 'gateway_message_events', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_runner', 'gateway_messages', 'SELECT, INSERT, UPDATE'),
  ('lgsp_runner', 'gateway_message_events', 'SELECT, INSERT');
SELECT platform_apply_role_grants();
