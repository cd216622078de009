-- Console: its read model of bus traffic (message index and timelines from lgsp.events), the dead
-- letters (from lgsp.dlq.*) and the store id its consumer group is named after. Times are ISO-8601
-- text in toISOString() form; COLLATE "C" keeps their string order the time order.

-- Up Migration
CREATE TABLE console_meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE console_messages (
  id                 text PRIMARY KEY,
  type               text NOT NULL,
  family             text NOT NULL,
  from_member        text NOT NULL,
  from_system        text NOT NULL,
  to_member          text NOT NULL,
  to_service         text NOT NULL,
  correlation_id     text NOT NULL,
  status             text NOT NULL DEFAULT 'accepted',
  status_at          text COLLATE "C" NOT NULL DEFAULT '',
  business_status    text,
  business_status_at text COLLATE "C" NOT NULL DEFAULT '',
  accepted_at        text COLLATE "C",
  last_event_at      text COLLATE "C" NOT NULL,
  delivered_at       text COLLATE "C",
  due_at             text,
  finished_at        text,
  on_time            smallint,
  connector          text,
  attempts           integer NOT NULL DEFAULT 0,
  last_reason        text
);
CREATE INDEX console_messages_by_time ON console_messages (last_event_at, id);
CREATE INDEX console_messages_by_accepted ON console_messages (accepted_at);
CREATE INDEX console_messages_by_correlation ON console_messages (correlation_id);
CREATE INDEX console_messages_by_from ON console_messages (from_member);
CREATE INDEX console_messages_by_to ON console_messages (to_member);

CREATE TABLE console_message_events (
  event_id   text PRIMARY KEY,
  seq        bigserial NOT NULL,
  message_id text NOT NULL,
  event      text NOT NULL,
  at         text COLLATE "C" NOT NULL,
  actor      text,
  detail     text
);
CREATE INDEX console_message_events_by_message ON console_message_events (message_id, at, seq);

CREATE TABLE console_dead_letters (
  id             bigserial PRIMARY KEY,
  topic          text NOT NULL,
  "partition"    integer NOT NULL,
  record_offset  text NOT NULL,
  connector      text NOT NULL,
  message_id     text,
  reason         text NOT NULL,
  attempts       integer NOT NULL,
  origin_topic   text,
  failed_at      text COLLATE "C" NOT NULL,
  record_key     text,
  record_value   bytea,
  signature      text,
  verified       boolean NOT NULL,
  verify_reason  text,
  type           text,
  from_member    text,
  from_system    text,
  to_member      text,
  to_service     text,
  correlation_id text,
  payload_digest text,
  size_bytes     integer NOT NULL,
  replay_claimed boolean NOT NULL DEFAULT false,
  replayed_at    text,
  replayed_by    text,
  UNIQUE (topic, "partition", record_offset)
);
CREATE INDEX console_dead_letters_by_time ON console_dead_letters (failed_at);
CREATE INDEX console_dead_letters_by_message ON console_dead_letters (message_id);

-- Down Migration
DROP TABLE console_dead_letters;
DROP TABLE console_message_events;
DROP TABLE console_messages;
DROP TABLE console_meta;
