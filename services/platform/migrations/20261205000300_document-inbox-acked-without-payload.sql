-- An acknowledged inbox item is never served again (GET /v1/inbox/{id} answers 404 for it; only
-- a repeated acknowledgement reads its row), yet its row kept the whole sealed payload for good:
-- a dossier's or a document's content, personal data included, in the database long after the
-- receiving system took it. The row stays (its id guards against a late duplicate deposit), its
-- envelope without `data`: acknowledgements strip it from now on (inbox-store.ts); this strips
-- the rows acknowledged before.

-- Up Migration
UPDATE document_inbox SET envelope = (envelope::jsonb - 'data')::text WHERE acked_at IS NOT NULL AND envelope::jsonb ? 'data';

-- Down Migration
-- Nothing to restore: the payloads of acknowledged items are gone (Kafka keeps them within its retention).
