-- The attachment store (claim check): attachment bytes addressed by their SHA-256, shared by
-- every gateway and runner. bytea, so backups of the database carry them.

-- Up Migration
CREATE TABLE attachment_blobs (
  sha256     text PRIMARY KEY,
  size       integer NOT NULL,
  content    bytea NOT NULL,
  stored_at  timestamptz NOT NULL DEFAULT now()
);
-- Large values go out of line (TOAST) without compression attempts: attachments are usually
-- compressed formats already (PDF, signed packages).
ALTER TABLE attachment_blobs ALTER COLUMN content SET STORAGE EXTERNAL;

-- Down Migration
DROP TABLE attachment_blobs;
