-- Gateway: message status read model (fed from lgsp.events by the gateways' shared status
-- consumer group), Idempotency-Key reservations and the client-assertion jti replay cache.

-- Up Migration
CREATE TABLE gateway_messages (
  id             text PRIMARY KEY,
  type           text NOT NULL,
  from_member    text NOT NULL,
  from_system    text NOT NULL,
  to_member      text NOT NULL,
  to_service     text NOT NULL,
  correlation_id text NOT NULL,
  status         text NOT NULL,
  -- ISO-8601 text as carried by the event, returned unchanged.
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

-- One row per (client, key), inserted in the transaction that produces the message and
-- committed only once Kafka acknowledged it (a concurrent request with the key waits on the
-- row). Expired rows are taken over, and swept.
CREATE TABLE gateway_idempotency (
  client_id   text NOT NULL,
  key         text NOT NULL,
  body_digest text NOT NULL,
  message_id  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, key)
);
CREATE INDEX gateway_idempotency_expiry ON gateway_idempotency (expires_at);

-- A client assertion is single-use across every gateway: the row is inserted when it is first
-- used and kept until the assertion would have expired anyway.
CREATE TABLE gateway_assertion_jti (
  client_id  text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX gateway_assertion_jti_expiry ON gateway_assertion_jti (expires_at);

-- Down Migration
DROP TABLE gateway_assertion_jti;
DROP TABLE gateway_idempotency;
DROP TABLE gateway_message_events;
DROP TABLE gateway_messages;
