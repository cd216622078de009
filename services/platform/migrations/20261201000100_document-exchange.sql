-- Document exchange (edXML) at the gateways: documents, each (document, recipient) pair's
-- lifecycle state and status history, every package about a document, who may read which
-- attachment, and the pull inbox with its acknowledgements.

-- Up Migration
CREATE TABLE document_documents (
  document_id text PRIMARY KEY,
  sender      text NOT NULL,
  subject     text,
  sent_at     text NOT NULL
);

CREATE TABLE document_recipients (
  document_id text NOT NULL REFERENCES document_documents (document_id),
  member      text NOT NULL,
  seq         bigserial NOT NULL,
  message_id  text NOT NULL,
  -- status-lifecycle.ts RecipientState
  state       jsonb NOT NULL,
  PRIMARY KEY (document_id, member)
);

CREATE TABLE document_history (
  seq         bigserial PRIMARY KEY,
  document_id text NOT NULL,
  member      text NOT NULL,
  code        text NOT NULL,
  at          text NOT NULL,
  by          text NOT NULL,
  message_id  text NOT NULL,
  description text
);
CREATE INDEX document_history_by_pair ON document_history (document_id, member, seq);

CREATE TABLE document_packages (
  message_id          text PRIMARY KEY,
  seq                 bigserial NOT NULL,
  type                text NOT NULL,
  document_id         text NOT NULL,
  package_document_id text,
  business_doc_type   integer,
  from_member         text NOT NULL,
  to_member           text NOT NULL,
  at                  text NOT NULL
);
CREATE INDEX document_packages_by_document ON document_packages (document_id, at, seq);

CREATE TABLE document_attachment_access (
  sha256 text NOT NULL,
  member text NOT NULL,
  PRIMARY KEY (sha256, member)
);

-- The pull inbox: the gateways' queryable copy of lgsp.inbox. An acknowledged item keeps its
-- row (acked_at set); document_inbox_acks remembers acknowledgements seen before the deposit.
CREATE TABLE document_inbox (
  cursor       bigserial PRIMARY KEY,
  id           text NOT NULL UNIQUE,
  system       text NOT NULL,
  type         text NOT NULL,
  deposited_at text NOT NULL,
  acked_at     text,
  -- the envelope's JSON text as deposited
  envelope     text NOT NULL
);
CREATE INDEX document_inbox_waiting ON document_inbox (system, cursor) WHERE acked_at IS NULL;

CREATE TABLE document_inbox_acks (
  id       text PRIMARY KEY,
  acked_at text NOT NULL
);

-- Down Migration
DROP TABLE document_inbox_acks;
DROP TABLE document_inbox;
DROP TABLE document_attachment_access;
DROP TABLE document_packages;
DROP TABLE document_history;
DROP TABLE document_recipients;
DROP TABLE document_documents;
