// The success answers of the document-exchange routes (inbox, documents, attachment bytes) as
// the gateway's OpenAPI document describes them: set on the document only
// (platform/openapi-answers.ts, through the module's openapiAnswers), so the routes keep
// answering exactly what they build. Each mirrors its handler: inbox.ts (summary(), the signed
// envelope), documents.ts (view()), attachments.ts.
import type { DocumentedAnswers } from '../../platform/openapi-answers.js';
import { MESSAGE_STATUSES } from '../../platform/bus-events.js';
import { STATUS_CODES } from '../status-lifecycle.js';

const MEMBER_CODE = { type: 'string', pattern: '^[A-Z0-9]+(\\.[A-Z0-9]+)*$', maxLength: 35, description: 'Electronic agency code' };
const MESSAGE_ID = { type: 'string', format: 'uuid', description: 'The message\'s id (GET /v1/messages/{id})' };
const TIME = { type: 'string', format: 'date-time' };
const SHA256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const SENDER = {
  type: 'object',
  additionalProperties: false,
  required: ['member', 'system'],
  properties: { member: MEMBER_CODE, system: { type: 'string', description: 'The sending system (clientId)' } },
};
/** A member with its registry name; the name is absent for a member no longer in the registry. */
const NAMED_MEMBER = { member: MEMBER_CODE, name: { type: 'string', description: 'From the registry; absent for a member it no longer lists' } };

const inboxItem = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'from', 'correlationId', 'depositedAt', 'href'],
  properties: {
    id: MESSAGE_ID,
    type: { type: 'string' },
    from: SENDER,
    correlationId: { type: 'string' },
    depositedAt: TIME,
    documentId: { type: 'string', description: 'edoc.send: the document\'s; edoc.status: the document the status is about' },
    subject: { type: 'string', description: 'edoc.send only' },
    businessDocType: { type: 'integer', description: 'edoc.send only: 0 new, 1 revoke, 2 update, 3 replace' },
    statusCode: { enum: [...STATUS_CODES], description: 'edoc.status only' },
    attachments: {
      type: 'array',
      description: 'edoc.send with attachments: each fetched from its href',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['contentId', 'name', 'contentType', 'size', 'sha256', 'href'],
        properties: {
          contentId: { type: 'string' },
          name: { type: 'string' },
          contentType: { type: 'string' },
          size: { type: 'integer', minimum: 1 },
          sha256: SHA256,
          href: { type: 'string', format: 'uri-reference', description: 'GET /v1/attachments/{sha256}' },
        },
      },
    },
    href: { type: 'string', format: 'uri-reference', description: 'GET /v1/inbox/{id}' },
    unreadable: { const: true, description: 'The bus can no longer decrypt the item (a lost key): fetching it answers 502 PAYLOAD_UNREADABLE' },
  },
};

const inboxPage = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next'],
  properties: {
    items: { type: 'array', items: inboxItem, description: 'Oldest first' },
    next: { type: ['integer', 'null'], description: 'The `after` of the next page; null on the last' },
  },
};

// The envelope as the bus holds it (schemas/envelope.schema.json), signed over its exact bytes
// (LGSP-Signature).
const signedEnvelope = {
  type: 'object',
  additionalProperties: false,
  required: ['specversion', 'id', 'source', 'type', 'time', 'datacontenttype', 'from', 'to', 'correlationId', 'payloadDigest', 'data'],
  properties: {
    specversion: { const: '1.0' },
    id: MESSAGE_ID,
    source: { type: 'string', description: 'urn:lgsp:<member>:<system>' },
    type: { type: 'string' },
    time: TIME,
    datacontenttype: { const: 'application/json' },
    from: SENDER,
    to: { type: 'object', additionalProperties: false, required: ['member', 'service'], properties: { member: MEMBER_CODE, service: { type: 'string' } } },
    correlationId: { type: 'string' },
    payloadDigest: { type: 'string', pattern: '^sha-256=[A-Za-z0-9+/]{43}=$' },
    data: {
      type: 'object',
      description: 'The payload (#/components/schemas/{type}); for edoc.* with what the bus added: `signatureVerification` (the XML-DSig result) and, for a signed package, `original` (its bytes\' digest)',
    },
  },
};

const xmlPackage = { type: 'string', contentMediaType: 'application/xml', description: 'The edXML package (edoc.send, edoc.status)' };

/** A package about a document, as the views list it. */
const PACKAGE = {
  type: 'object',
  additionalProperties: false,
  required: ['messageId', 'type', 'documentId', 'packageDocumentId', 'businessDocType', 'from', 'to', 'at', 'delivery'],
  properties: {
    messageId: MESSAGE_ID,
    type: { enum: ['edoc.send', 'edoc.status'] },
    documentId: { type: 'string' },
    packageDocumentId: { type: ['string', 'null'], description: 'edoc.send: the package\'s own DocumentId; null for a status packet' },
    businessDocType: { type: ['integer', 'null'], description: 'edoc.send: 0 new, 1 revoke, 2 update, 3 replace; null for a status packet' },
    from: MEMBER_CODE,
    to: MEMBER_CODE,
    at: TIME,
    delivery: { enum: [...MESSAGE_STATUSES] },
  },
};

const documentView = {
  type: 'object',
  additionalProperties: false,
  required: ['documentId', 'from', 'sentAt', 'recipients', 'packages'],
  properties: {
    documentId: { type: 'string', description: '<senderOrganId>,<YYYY/MM/DD>,<number/notation>' },
    from: { type: 'object', additionalProperties: false, required: ['member'], properties: NAMED_MEMBER },
    subject: { type: ['string', 'null'], description: 'To the sender and the recipients only (never to operators): the subject of the latest version sent to the caller (an update, BussinessDocType 2, may change it; the sender sees the latest); null when it cannot be read' },
    sentAt: TIME,
    recipients: {
      type: 'array',
      description: 'Every recipient for the sender and operators; a recipient sees its own row only',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['member', 'messageId', 'delivery', 'status', 'revoked', 'pending', 'history'],
        properties: {
          ...NAMED_MEMBER,
          messageId: MESSAGE_ID,
          delivery: { enum: [...MESSAGE_STATUSES], description: 'Of the message that carried the document to this recipient' },
          status: { enum: ['01', '02', '03', '04', '05', '06', null], description: 'The last processing status (01…06); null before the recipient sent one' },
          subject: { type: ['string', 'null'], description: 'To the sender only: the subject of the latest version sent to this recipient (the original, or an update)' },
          revoked: { type: 'boolean' },
          pending: { enum: ['revoke', 'update', 'replace', null], description: 'A change the recipient has not answered yet' },
          history: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['code', 'at', 'by', 'messageId'],
              properties: {
                code: { enum: [...STATUS_CODES] },
                at: TIME,
                by: { enum: ['recipient', 'bus'] },
                messageId: MESSAGE_ID,
                description: { type: 'string', description: 'To the sender and to that recipient only' },
              },
            },
          },
        },
      },
    },
    packages: {
      type: 'array',
      description: 'Every package about the document (the sender\'s and operators\' view; a recipient sees those from or to it)',
      items: PACKAGE,
    },
  },
};

/** A revoke or update found under its own DocumentId (documents.ts, changeView). */
const changed = { type: 'object', additionalProperties: false, required: ['documentId', 'href'], properties: { documentId: { type: 'string' }, href: { type: 'string', format: 'uri-reference', description: 'GET /v1/documents/{documentId} of that document' } } };
const changeView = {
  type: 'object',
  additionalProperties: false,
  required: ['documentId', 'from', 'sentAt', 'businessDocType', 'packages'],
  properties: {
    documentId: { type: 'string', description: 'The revoke\'s or update\'s own DocumentId' },
    from: { type: 'object', additionalProperties: false, required: ['member'], properties: NAMED_MEMBER },
    subject: { type: ['string', 'null'], description: 'To its sender and recipients only' },
    sentAt: TIME,
    businessDocType: { enum: [1, 2], description: '1 revoke, 2 update' },
    revokes: { ...changed, description: 'The document it revokes (businessDocType 1)' },
    updates: { ...changed, description: 'The document it updates (businessDocType 2)' },
    packages: { type: 'array', description: 'The packages that carried it (a recipient sees its own)', items: PACKAGE },
  },
};

const documentOrChange = { oneOf: [documentView, changeView], description: 'A document, or a revoke or update under its own DocumentId (with `revokes` or `updates`)' };

const acknowledged = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'status'],
  properties: { id: MESSAGE_ID, status: { const: 'delivered' } },
};

const uploaded = {
  type: 'object',
  additionalProperties: false,
  required: ['sha256', 'size', 'href'],
  properties: {
    sha256: { ...SHA256, description: 'Reference the attachment in edoc.send by it (and its size)' },
    size: { type: 'integer', minimum: 1, description: 'Bytes' },
    href: { type: 'string', format: 'uri-reference', description: 'GET /v1/attachments/{sha256}' },
  },
};

export const documentExchangeAnswers: DocumentedAnswers = {
  'POST /v1/inbox/{id}/ack': { 200: { 'application/json': acknowledged } },
  'POST /v1/attachments': { 201: { 'application/json': uploaded } },
  'GET /v1/inbox': { 200: { 'application/json': inboxPage } },
  'GET /v1/inbox/{id}': { 200: { 'application/json': signedEnvelope, 'application/xml': xmlPackage, 'text/xml': { ...xmlPackage, contentMediaType: 'text/xml', description: 'The edXML package, as text/xml for a client whose Accept weighs it higher' } } },
  'GET /v1/documents/{documentId}': { 200: { 'application/json': documentOrChange } },
  'GET /v1/documents': { 200: { 'application/json': documentOrChange } },
  'GET /v1/attachments/{sha256}': {
    200: { 'application/octet-stream': { type: 'string', contentMediaType: 'application/octet-stream', description: 'The attachment\'s bytes' } },
    206: { 'application/octet-stream': { type: 'string', contentMediaType: 'application/octet-stream', description: 'The bytes of the range asked for (Content-Range says which)' } },
  },
};
