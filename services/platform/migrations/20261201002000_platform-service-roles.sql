-- A database role per service, each reaching only its tables (docs/operator-guide.md, "PostgreSQL").
-- The roles are NOLOGIN groups: a deployment logs in with its own users made members of them
-- (GRANT lgsp_gateway TO <gateway's login>); the local stack gives them a password and LOGIN.
-- Roles belong to the whole server, grants to this database: many databases on one server (the
-- tests') share the roles, each with its own grants.
--
-- The grants are data (platform_role_grants) applied by platform_apply_role_grants(), so a later
-- migration that adds a table adds its rows and calls the function again, and so an owner who may
-- not create roles (a managed PostgreSQL's application user) still migrates: roles that do not
-- exist and cannot be created are skipped with a NOTICE; create them, then run
-- `lgsp db migrate` again, which re-applies every grant.
--
-- What each service does with each table (why these privileges):
--  gateway  its message status store, idempotency keys, client-assertion replay cache; the
--           document exchange it hosts (documents, packages, attachments, pull-inbox reads and
--           acknowledgements). Nothing of the audit chain, the delivery ledger or the console.
--  runner   its delivery ledger, pause switches and connector state; the ledger it hosts writes
--           the read models every gateway serves (status, timelines, inbox deposits) and the
--           console's message index; connectors read attachment bytes.
--  audit    the hash chain and its checkpoints: read and append, nothing else (the triggers of
--           20261201001300_audit-chain.sql refuse changes even to the owner's mistakes).
--  console  its own tables: meta, the message index it follows, dead-letter records.
--  portal   the mock DVCQG portal's tables (a separate product part in the same database).
-- Every role reads pgmigrations: a service checks at start that the owner left nothing pending.

-- Up Migration
CREATE TABLE platform_role_grants (
  role       text NOT NULL,
  table_name text NOT NULL,
  -- a GRANT privilege list, e.g. 'SELECT, INSERT'
  privileges text NOT NULL CHECK (privileges ~ '^[A-Z]+(, ?[A-Z]+)*$'),
  PRIMARY KEY (role, table_name)
);

INSERT INTO platform_role_grants (role, table_name, privileges) VALUES
  ('lgsp_gateway', 'pgmigrations', 'SELECT'),
  ('lgsp_gateway', 'gateway_messages', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_gateway', 'gateway_message_events', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_gateway', 'gateway_idempotency', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_gateway', 'gateway_assertion_jti', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_gateway', 'document_documents', 'SELECT, INSERT, UPDATE'),
  ('lgsp_gateway', 'document_recipients', 'SELECT, INSERT, UPDATE'),
  ('lgsp_gateway', 'document_history', 'SELECT, INSERT, UPDATE'),
  ('lgsp_gateway', 'document_packages', 'SELECT, INSERT, UPDATE'),
  ('lgsp_gateway', 'document_attachment_access', 'SELECT, INSERT, UPDATE'),
  ('lgsp_gateway', 'document_inbox', 'SELECT, UPDATE'),
  ('lgsp_gateway', 'document_inbox_acks', 'SELECT, INSERT'),
  ('lgsp_gateway', 'attachment_blobs', 'SELECT, INSERT'),

  ('lgsp_runner', 'pgmigrations', 'SELECT'),
  ('lgsp_runner', 'runner_delivered', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_runner', 'runner_connector_pause', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_runner', 'connector_state_entries', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_runner', 'gateway_messages', 'SELECT, INSERT, UPDATE'),
  ('lgsp_runner', 'gateway_message_events', 'SELECT, INSERT'),
  ('lgsp_runner', 'document_inbox', 'SELECT, INSERT, UPDATE'),
  ('lgsp_runner', 'document_inbox_acks', 'SELECT, INSERT'),
  ('lgsp_runner', 'console_messages', 'SELECT, INSERT, UPDATE'),
  ('lgsp_runner', 'console_message_events', 'SELECT, INSERT'),
  ('lgsp_runner', 'attachment_blobs', 'SELECT'),

  ('lgsp_audit', 'pgmigrations', 'SELECT'),
  ('lgsp_audit', 'audit_entries', 'SELECT, INSERT'),
  ('lgsp_audit', 'audit_checkpoints', 'SELECT, INSERT'),

  ('lgsp_console', 'pgmigrations', 'SELECT'),
  ('lgsp_console', 'console_meta', 'SELECT, INSERT, UPDATE'),
  ('lgsp_console', 'console_messages', 'SELECT, INSERT, UPDATE'),
  ('lgsp_console', 'console_message_events', 'SELECT, INSERT'),
  ('lgsp_console', 'console_dead_letters', 'SELECT, INSERT, UPDATE'),

  ('lgsp_portal', 'pgmigrations', 'SELECT'),
  ('lgsp_portal', 'portal_dossiers', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_portal', 'portal_status_history', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_portal', 'portal_outbox', 'SELECT, INSERT, UPDATE, DELETE'),
  ('lgsp_portal', 'portal_counters', 'SELECT, INSERT, UPDATE, DELETE');

-- Creates the missing roles it may, then grants every row (and USAGE on the sequences behind the
-- serial columns of the tables a role may insert into). Idempotent: GRANT of a held privilege is a no-op.
CREATE FUNCTION platform_apply_role_grants() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  r record;
  s record;
BEGIN
  FOR r IN SELECT DISTINCT role FROM platform_role_grants LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.role) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r.role);
      EXCEPTION
        -- Another database on this server (tests migrate many at once) created it meanwhile.
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN
          RAISE NOTICE 'role % does not exist and this owner may not create it: its grants are skipped', r.role;
      END;
    END IF;
  END LOOP;
  FOR r IN SELECT g.role, g.table_name, g.privileges FROM platform_role_grants g
           WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = g.role) AND to_regclass(quote_ident(g.table_name)) IS NOT NULL LOOP
    EXECUTE format('GRANT %s ON TABLE %I TO %I', r.privileges, r.table_name, r.role);
    IF r.privileges ~ 'INSERT' THEN
      FOR s IN SELECT pg_get_serial_sequence(quote_ident(r.table_name), a.attname) AS seq
               FROM pg_attribute a
               WHERE a.attrelid = to_regclass(quote_ident(r.table_name)) AND a.attnum > 0 AND NOT a.attisdropped
                 AND pg_get_serial_sequence(quote_ident(r.table_name), a.attname) IS NOT NULL LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO %I', s.seq, r.role);
      END LOOP;
    END IF;
  END LOOP;
END;
$$;

-- The owner's tool: nobody else has a reason to call it (it could do no more than its caller may).
REVOKE EXECUTE ON FUNCTION platform_apply_role_grants() FROM PUBLIC;

SELECT platform_apply_role_grants();

-- Down Migration
DROP FUNCTION platform_apply_role_grants();
DROP TABLE platform_role_grants;
