-- Audit: seals of full verifications (services/audit/chain-verifier.ts). The integrity check
-- (GET /v1/audit/integrity, the console's box) re-verified the whole chain at every call, a pass
-- whose time grows with the log: past a few million entries it outlasted the console's wait. Once
-- a full pass finds the chain intact (and the checkpoints published on Kafka could be read), the
-- audit service signs a seal of the entry it reached (seq, hash) with its checkpoint key; on a
-- long chain the next check starts from the last seal that still holds instead of from entry 1.
-- Append-only like the checkpoints; a seal cannot be forged without the checkpoint key, and one
-- deleted only makes a later check start earlier.

-- Up Migration
CREATE TABLE audit_seals (
  id            bigserial PRIMARY KEY,
  seq           bigint NOT NULL,
  hash          text NOT NULL,
  -- the last stored checkpoint the sealed pass checked (later ones are checked from the seal on)
  checkpoint_id bigint NOT NULL,
  -- where the sealed pass's read of the Kafka checkpoint topic ended: the next check reads on from it
  published_offset text NOT NULL,
  signed_at     text NOT NULL,
  jws           text NOT NULL
);
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_seals FROM PUBLIC;

INSERT INTO platform_role_grants (role, table_name, privileges) VALUES ('lgsp_audit', 'audit_seals', 'SELECT, INSERT');
SELECT platform_apply_role_grants();

-- Down Migration
DELETE FROM platform_role_grants WHERE table_name = 'audit_seals';
DROP TABLE audit_seals;
