-- The audit trail's time filter compares `at` bytewise (`at COLLATE "C"`, audit-store.ts: the
-- toISOString() form sorts in time order byte for byte, whatever the database's collation). The
-- index on `at` was built with the column's default collation, which on any database not created
-- with the C locale (C.UTF-8, en_US.UTF-8, vi_VN.UTF-8 ...) cannot serve a COLLATE "C" comparison:
-- every search by time read the whole table (69 ms at 500,000 entries, growing with the log)
-- while the index cost an insertion per entry for nothing. Rebuilt bytewise, it serves the
-- filter (2 ms at 500,000 entries).
--
-- Upgrading: the index is rebuilt inside the migration's transaction, so the audit's appends
-- wait while it builds (its Kafka consumer lags, nothing is lost): on a large log, upgrade at a
-- quiet hour.

-- Up Migration
DROP INDEX audit_entries_by_at;
CREATE INDEX audit_entries_by_at ON audit_entries (at COLLATE "C");

-- Down Migration
DROP INDEX audit_entries_by_at;
CREATE INDEX audit_entries_by_at ON audit_entries (at);
