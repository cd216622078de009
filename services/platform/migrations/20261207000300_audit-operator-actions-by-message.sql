-- An audit search by message id (GET /v1/audit/events?messageId=…, and the console's trail)
-- matched the entries whose message_id column names it: the message's own steps. An operator's
-- replay of that message is an `operator_action` entry whose message is in its detail
-- (`detail.messageId`: the intent, and its `failed` entry when the replay was refused), so an
-- auditor asking who replayed a message found the `replayed` step but not who authorised it.
-- The search now matches those entries too (audit-store.ts), through this partial index: only
-- operator actions are in it, a handful beside the message steps.
--
-- Upgrading: built inside the migration's transaction over the operator actions only; the
-- audit's appends wait while it builds (its Kafka consumer lags, nothing is lost).

-- Up Migration
CREATE INDEX audit_entries_action_by_message ON audit_entries (((body::json -> 'detail' ->> 'messageId')), seq)
  WHERE event = 'operator_action';

-- Down Migration
DROP INDEX audit_entries_action_by_message;
