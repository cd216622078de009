-- Mock DVCQG portal (services/mock-portal, a separate product part with tables of its own):
-- dossiers per agency, their status history, the outbox of online-filed dossiers still to be
-- handed to the province, and counters for dossier numbers.

-- Up Migration
CREATE TABLE portal_dossiers (
  agency           text NOT NULL,
  code             text NOT NULL,
  record           text NOT NULL,
  status           text NOT NULL,
  source           text NOT NULL,
  copies           integer NOT NULL DEFAULT 1,
  submissions      integer NOT NULL DEFAULT 0,
  progress_updates integer NOT NULL DEFAULT 0,
  created_at       text COLLATE "C" NOT NULL,
  updated_at       text NOT NULL,
  PRIMARY KEY (agency, code)
);

CREATE TABLE portal_status_history (
  seq         bigserial PRIMARY KEY,
  agency      text NOT NULL,
  code        text NOT NULL,
  status      text NOT NULL,
  handled_at  text,
  note        text,
  via         text NOT NULL,
  recorded_at text NOT NULL
);
CREATE INDEX portal_status_history_by_dossier ON portal_status_history (agency, code, seq);

CREATE TABLE portal_outbox (
  agency             text NOT NULL,
  code               text NOT NULL,
  attempts           integer NOT NULL DEFAULT 0,
  last_error         text,
  message_id         text,
  delivered_at       text,
  failed_permanently boolean NOT NULL DEFAULT false,
  next_attempt_at    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (agency, code)
);

CREATE TABLE portal_counters (
  name  text PRIMARY KEY,
  value bigint NOT NULL
);

-- Down Migration
DROP TABLE portal_counters;
DROP TABLE portal_outbox;
DROP TABLE portal_status_history;
DROP TABLE portal_dossiers;
