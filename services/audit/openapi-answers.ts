// The success answers of the audit API as its OpenAPI document describes them: set on the
// document only (platform/openapi-answers.ts), so the routes keep answering exactly what the
// store returns. Each mirrors audit-store.ts (AuditPage, ChainHead, Checkpoint) and
// chain-verifier.ts (ChainVerification).
import type { DocumentedAnswers } from '../platform/openapi-answers.js';

const SEQ = { type: 'integer', minimum: 1 };
const HASH = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lowercase hex' };
const PARTY = { type: 'object', required: ['member'], properties: { member: { type: 'string' }, system: { type: 'string' }, service: { type: 'string' } } };

// Where the entry was read from, with the producer's signature (record-evidence.ts).
const evidence = {
  type: 'object',
  additionalProperties: false,
  required: ['topic', 'partition', 'offset', 'sig', 'proof'],
  properties: {
    topic: { type: 'string' },
    partition: { type: 'integer', minimum: 0 },
    offset: { type: 'string', pattern: '^[0-9]+$', description: 'A Kafka offset (a decimal string: it may exceed 2^53)' },
    sig: { type: 'string', description: 'The batch JWS (lgsp-sig header)' },
    proof: { type: 'string', description: 'The record\'s Merkle inclusion proof (lgsp-proof header)' },
    value: { type: 'string', description: 'Event records: the signed value, as produced' },
    leaf: { type: 'string', description: 'Message records: the base64url Merkle leaf of the signed value (the payload stays out)' },
  },
};

// The event as its producer signed it (or as the audit describes a message record or a record
// it refused): the audit checks the members below and keeps the rest as signed, so the object
// stays open — an entry written by another version of a producer is still a valid answer.
const event = {
  type: 'object',
  required: ['id', 'event', 'at', 'actor'],
  properties: {
    id: { type: 'string', description: 'The event\'s id (a message record\'s entry: the message id)' },
    event: { type: 'string', description: 'accepted, rejected, delivered, delivery_failed, dead_lettered, replayed, status, deposited, operator_action, …' },
    at: { type: 'string', description: 'When it happened (ISO 8601)' },
    actor: { type: 'string', description: 'The service (and component) that recorded it' },
    messageId: { type: 'string' },
    type: { type: 'string', description: 'Message type' },
    from: PARTY,
    to: PARTY,
    correlationId: { type: 'string' },
    payloadDigest: { type: 'string' },
    detail: { type: 'object', description: 'Reasons, attempts, status codes; never a message body' },
    record: evidence,
  },
  additionalProperties: true,
};

const eventsPage = {
  type: 'object',
  additionalProperties: false,
  required: ['entries', 'nextBefore'],
  properties: {
    entries: {
      type: 'array',
      description: 'Newest first',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['seq', 'recordedAt', 'prevHash', 'hash', 'event'],
        properties: { seq: SEQ, recordedAt: { type: 'string', format: 'date-time' }, prevHash: HASH, hash: HASH, event },
      },
    },
    nextBefore: { type: ['integer', 'null'], minimum: 1, description: 'The `before` of the next (older) page; null on the last' },
  },
};

const integrity = {
  type: 'object',
  additionalProperties: false,
  required: ['head', 'lastCheckpoint', 'verification'],
  properties: {
    head: { type: ['object', 'null'], additionalProperties: false, required: ['seq', 'hash'], properties: { seq: SEQ, hash: HASH }, description: 'null while the chain is empty' },
    lastCheckpoint: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['seq', 'hash', 'signedAt', 'jws'],
      properties: { seq: SEQ, hash: HASH, signedAt: { type: 'string', format: 'date-time' }, jws: { type: 'string', description: 'Compact JWS over {seq, hash, at}, signed with the audit\'s checkpoint key' } },
      description: 'null before the first checkpoint',
    },
    verification: {
      type: 'object',
      additionalProperties: false,
      required: ['ok', 'entries', 'checkpoints', 'signedThrough', 'scope'],
      properties: {
        ok: { type: 'boolean' },
        scope: {
          type: 'string',
          enum: ['full', 'since-seal'],
          description: '`full`: every entry was verified. `since-seal`: a chain longer than LGSP_AUDIT_FULL_VERIFY_MAX_ENTRIES, verified from the seal of the last full pass that still holds (`sealed`): the entries, checkpoints and published checkpoints after it, and that nothing up to it was re-hashed or deleted. An entry before it edited in place with its hash kept shows at the next full pass (the audit leader runs one every LGSP_AUDIT_FULL_VERIFY_INTERVAL_MS; `?full=true`; `lgsp audit verify`)',
        },
        sealed: {
          type: 'object',
          additionalProperties: false,
          required: ['seq', 'at'],
          properties: { seq: SEQ, at: { type: 'string', format: 'date-time' } },
          description: 'With `since-seal`: entries 1..seq were verified in full at `at`, and found intact',
        },
        entries: { type: 'integer', minimum: 0, description: 'Entries in the chain' },
        checkpoints: { type: 'integer', minimum: 0, description: 'Checkpoints stored with the chain' },
        signedThrough: { type: 'integer', minimum: 0, description: 'Highest seq a checkpoint covers (0 when none)' },
        published: {
          type: 'object',
          additionalProperties: false,
          required: ['checked', 'ignored'],
          properties: {
            checked: { type: 'integer', minimum: 0 },
            ignored: { type: 'integer', minimum: 0 },
            sealed: { type: 'integer', minimum: 0, description: 'With `since-seal`: those within the seal, checked by its full pass and not again' },
          },
          description: 'Checkpoints read back from the Kafka checkpoint topic, when it was read',
        },
        publishedUnreadable: { type: 'string', description: 'Why the Kafka checkpoint topic could not be read: the database was checked alone, and a tail cut together with its stored checkpoints would not show' },
        firstBad: { type: 'object', additionalProperties: false, required: ['seq', 'reason'], properties: { seq: { type: 'integer' }, reason: { type: 'string' } }, description: 'The first entry that fails, when one does' },
      },
    },
  },
};

export const auditAnswers: DocumentedAnswers = {
  'GET /v1/audit/events': { 200: { 'application/json': eventsPage } },
  'GET /v1/audit/integrity': { 200: { 'application/json': integrity } },
};
