-- The subject each package carried, sealed like the document's: an update (BussinessDocType 2)
-- may change it, and goes to some of the recipients only, so the subject a recipient sees is that
-- of the latest version sent to it, not the document's first (which the view kept). NULL: a row
-- written before, or a package without a subject (status packets); the document's own subject
-- stands then. And a revoke or update with a DocumentId of its own is looked up under that id.

-- Up Migration
ALTER TABLE document_packages ADD COLUMN subject text;
CREATE INDEX document_packages_by_package_document ON document_packages (package_document_id) WHERE package_document_id IS NOT NULL;

-- Down Migration
DROP INDEX document_packages_by_package_document;
ALTER TABLE document_packages DROP COLUMN subject;
