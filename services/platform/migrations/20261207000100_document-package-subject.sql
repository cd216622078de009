-- The subject each package carried, sealed like the document's: an update (BussinessDocType 2)
-- may change it, and goes to some of the recipients only, so the subject a recipient sees is that
-- of the latest version sent to it, not the document's first (which the view kept). NULL: a row
-- written before, or a package without a subject (status packets); the document's own subject
-- stands then.
--
-- And a revoke or update with a DocumentId of its own is looked up under that id: one row per
-- package (its recipient), which decides who may see it on its own, as document_documents does
-- for a document, before the packages are read (a stranger's miss costs what an unknown id does).
-- Rows for changes sent before are taken from the packages.

-- Up Migration
ALTER TABLE document_packages ADD COLUMN subject text;

CREATE TABLE document_changes (
  message_id         text PRIMARY KEY,
  change_document_id text NOT NULL,
  document_id        text NOT NULL,
  business_doc_type  integer NOT NULL,
  sender             text NOT NULL,
  member             text NOT NULL
);
CREATE INDEX document_changes_by_id ON document_changes (change_document_id);
INSERT INTO document_changes (message_id, change_document_id, document_id, business_doc_type, sender, member)
SELECT message_id, package_document_id, document_id, business_doc_type, from_member, to_member
  FROM document_packages
 WHERE type = 'edoc.send' AND business_doc_type IN (1, 2) AND package_document_id IS NOT NULL AND package_document_id <> document_id;

INSERT INTO platform_role_grants (role, table_name, privileges) VALUES
  ('lgsp_gateway', 'document_changes', 'SELECT, INSERT')
ON CONFLICT (role, table_name) DO UPDATE SET privileges = excluded.privileges;
SELECT platform_apply_role_grants();

-- Down Migration
DELETE FROM platform_role_grants WHERE table_name = 'document_changes';
DROP TABLE document_changes;
ALTER TABLE document_packages DROP COLUMN subject;
