-- Audit: the hash-chained log (services/audit/audit-store.ts) and its signed checkpoints.
-- Append-only: triggers refuse UPDATE, DELETE and TRUNCATE, and PUBLIC has no right to change
-- rows. They guard against mistakes and against roles that are not the owner; the owner (or a
-- superuser) can still disable them, which is why the hash chain and the signed checkpoints (also
-- published on Kafka) are what make tampering visible.

-- Up Migration
CREATE TABLE audit_entries (
  seq         bigint PRIMARY KEY,
  event_id    text NOT NULL UNIQUE,
  message_id  text,
  event       text NOT NULL,
  type        text,
  from_member text,
  to_member   text,
  actor       text,
  -- ISO-8601 in Date.toISOString() form: string order is time order, and the hash covers these bytes.
  at          text NOT NULL,
  recorded_at text NOT NULL,
  -- canonical JSON of the event, byte for byte as hashed (text, not jsonb, which would reorder it).
  body        text NOT NULL,
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX audit_entries_by_message ON audit_entries (message_id, seq);
CREATE INDEX audit_entries_by_from ON audit_entries (from_member, seq);
CREATE INDEX audit_entries_by_to ON audit_entries (to_member, seq);
CREATE INDEX audit_entries_by_type ON audit_entries (type, seq);
CREATE INDEX audit_entries_by_event ON audit_entries (event, seq);
CREATE INDEX audit_entries_by_at ON audit_entries (at);

CREATE TABLE audit_checkpoints (
  id        bigserial PRIMARY KEY,
  seq       bigint NOT NULL,
  hash      text NOT NULL,
  signed_at text NOT NULL,
  jws       text NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries, audit_checkpoints FROM PUBLIC;

-- Down Migration
DROP TABLE audit_checkpoints;
DROP TABLE audit_entries;
DROP FUNCTION audit_append_only();
