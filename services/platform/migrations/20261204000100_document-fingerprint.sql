-- A document's fingerprint (document-fingerprint.ts), sealed like its subject: a DocumentId sent
-- again to new recipients must carry the same document. NULL: a row written before, whose
-- content is not known (such a DocumentId is not checked).

-- Up Migration
ALTER TABLE document_documents ADD COLUMN fingerprint text;

-- Down Migration
ALTER TABLE document_documents DROP COLUMN fingerprint;
