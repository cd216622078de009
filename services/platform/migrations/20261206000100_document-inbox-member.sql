-- The pull inbox is per member and system: an item was sent to a member (its envelope's
-- to.member) and waits for that member's system. Keyed by the system alone, a system the
-- registry moved to another member went on listing, reading and acknowledging what was sent to
-- its old member. The member is kept beside the system, and the gateway reads both.

-- Up Migration
ALTER TABLE document_inbox ADD COLUMN member text;
UPDATE document_inbox SET member = COALESCE(envelope::jsonb -> 'to' ->> 'member', '');
ALTER TABLE document_inbox ALTER COLUMN member SET NOT NULL;

-- Down Migration
ALTER TABLE document_inbox DROP COLUMN member;
