-- The console only reads the message index (console_messages, console_message_events): the
-- ledger in the runners and the accepting gateways write it (20261201002500). Its role kept the
-- INSERT and UPDATE of the time the console fed the index itself, so a compromised console could
-- rewrite any message's status and timeline — what the operator guide says it cannot do.
-- platform_apply_role_grants() only grants, so the privileges dropped here are revoked too.

-- Up Migration
UPDATE platform_role_grants SET privileges = 'SELECT'
 WHERE role = 'lgsp_console' AND table_name IN ('console_messages', 'console_message_events');
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lgsp_console') THEN
    REVOKE INSERT, UPDATE, DELETE ON TABLE console_messages, console_message_events FROM lgsp_console;
  END IF;
END;
$$;
SELECT platform_apply_role_grants();

-- Down Migration
UPDATE platform_role_grants SET privileges = 'SELECT, INSERT, UPDATE' WHERE role = 'lgsp_console' AND table_name = 'console_messages';
UPDATE platform_role_grants SET privileges = 'SELECT, INSERT' WHERE role = 'lgsp_console' AND table_name = 'console_message_events';
SELECT platform_apply_role_grants();
