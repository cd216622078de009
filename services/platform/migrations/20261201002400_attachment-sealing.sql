-- Attachments encrypted at rest (issue 14): `content` holds AES-GCM ciphertext and `sealing` the
-- JWE (general JSON serialization, ciphertext left out) that opens it for the runner and the
-- gateway. NULL: a row written before encryption, whose content is the plain bytes.

-- Up Migration
ALTER TABLE attachment_blobs ADD COLUMN sealing text;

-- Down Migration
ALTER TABLE attachment_blobs DROP COLUMN sealing;
