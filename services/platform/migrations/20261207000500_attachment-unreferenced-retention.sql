-- Attachments: when a document first named an upload (services/attachments/attachment-retention.ts).
-- An upload no document ever names was kept for ever; now one still unreferenced past
-- LGSP_ATTACHMENT_UNREFERENCED_RETENTION_DAYS is deleted by the gateways, with its read grants.
-- Every attachment stored before this migration is kept: whether a document named it was not
-- recorded, so each is taken as referenced.

-- Up Migration
ALTER TABLE attachment_blobs ADD COLUMN referenced_at timestamptz;
UPDATE attachment_blobs SET referenced_at = stored_at;
CREATE INDEX attachment_blobs_unreferenced ON attachment_blobs (stored_at) WHERE referenced_at IS NULL;
-- The gateway marks a named attachment (UPDATE, and a share lock while the document commits,
-- which needs UPDATE) and sweeps the unnamed ones with who could read them (DELETE).
UPDATE platform_role_grants SET privileges = 'SELECT, INSERT, UPDATE, DELETE' WHERE role = 'lgsp_gateway' AND table_name IN ('attachment_blobs', 'document_attachment_access');
SELECT platform_apply_role_grants();

-- Down Migration
UPDATE platform_role_grants SET privileges = 'SELECT, INSERT' WHERE role = 'lgsp_gateway' AND table_name = 'attachment_blobs';
UPDATE platform_role_grants SET privileges = 'SELECT, INSERT, UPDATE' WHERE role = 'lgsp_gateway' AND table_name = 'document_attachment_access';
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lgsp_gateway') THEN
    REVOKE UPDATE, DELETE ON attachment_blobs FROM lgsp_gateway;
    REVOKE DELETE ON document_attachment_access FROM lgsp_gateway;
  END IF;
END $$;
DROP INDEX attachment_blobs_unreferenced;
ALTER TABLE attachment_blobs DROP COLUMN referenced_at;
