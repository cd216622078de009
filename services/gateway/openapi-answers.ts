// The success answers of the gateway's own routes (token, messages, directory, schemas, keys, metadata) as the
// OpenAPI document describes them: set on the document only (platform/openapi-answers.ts), so
// the routes keep answering exactly what they build. Each mirrors its handler in routes/.
import type { DocumentedAnswers } from '../platform/openapi-answers.js';
import { ASSERTION_ALGORITHMS } from './client-authentication.js';
import { MESSAGE_STATUSES } from '../platform/bus-events.js';
import { messageViewSchema } from '../platform/openapi-shapes.js';
import { isEncryptionPurpose, KEY_PURPOSES, KEY_SERVICES, PURPOSE_MEMBER, SERVICE_MEMBER, SUPERSEDED_MEMBER } from '../platform/key-purposes.js';

const MEMBER_CODE = { type: 'string', pattern: '^[A-Z0-9]+(\\.[A-Z0-9]+)*$', maxLength: 35, description: 'Electronic agency code' };
const SCHEMA_URL = { type: 'string', format: 'uri-reference', description: 'GET /v1/schemas/{type} of this schema' };

const json = (schema: Record<string, unknown>) => ({ 'application/json': schema });

const services = {
  type: 'object',
  additionalProperties: false,
  required: ['services'],
  properties: {
    services: {
      type: 'array',
      description: 'The offerings the caller has an access right to (empty for a client with none, e.g. an operator)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'provider', 'messageTypes'],
        properties: {
          code: { type: 'string', description: 'Service code; several providers may offer the same code' },
          name: { type: 'string', description: 'Absent when the registry names none' },
          provider: {
            type: 'object',
            additionalProperties: false,
            required: ['member', 'name'],
            properties: { member: MEMBER_CODE, name: { type: 'string' } },
          },
          messageTypes: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['type', 'schema'],
              properties: { type: { type: 'string' }, schema: SCHEMA_URL, replySchema: { ...SCHEMA_URL, description: 'Request/reply types only: the reply\'s schema' } },
            },
          },
        },
      },
    },
  },
};

const members = {
  type: 'object',
  additionalProperties: false,
  required: ['members'],
  properties: {
    members: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'name'],
        properties: {
          code: MEMBER_CODE,
          name: { type: 'string' },
          level: { enum: ['national', 'province', 'department', 'district', 'commune'], description: 'Absent when the registry gives none' },
          parent: { ...MEMBER_CODE, description: 'The parent member\'s code; absent for a top-level member' },
        },
      },
    },
  },
};

const schemaIndex = {
  type: 'object',
  additionalProperties: false,
  required: ['types'],
  properties: {
    types: {
      type: 'array',
      description: 'Sorted by type',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'connector', 'sentWith', 'schema'],
        properties: {
          type: { type: 'string' },
          connector: { type: 'string', description: 'The connector that delivers it' },
          description: { type: 'string', description: 'Absent when the connector manifest gives none' },
          sentWith: { enum: ['POST /v1/messages', 'POST /v1/requests'] },
          schema: SCHEMA_URL,
          replySchema: { ...SCHEMA_URL, description: 'Request/reply types only: the reply\'s schema' },
        },
      },
    },
  },
};

// A message type's schema is a JSON Schema of its connector's: open by nature; its $id is what
// the bus validates payloads by.
const publishedSchema = {
  type: 'object',
  description: 'A JSON Schema (draft 2020-12) document, also #/components/schemas/{type} in this document',
  required: ['$id'],
  properties: { $schema: { type: 'string', format: 'uri' }, $id: { type: 'string', format: 'uri' } },
  additionalProperties: true,
};

// A JWK Set is an open format (RFC 7517 §4: unknown members are ignored), so a key may carry
// members a keyset file adds (x5c, …); what the bus itself reads is required, and a private
// member (d) is never allowed.
const jwks = {
  type: 'object',
  additionalProperties: false,
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      description: 'Every signature key that still verifies, newest first',
      items: {
        type: 'object',
        required: ['kty', 'crv', 'x', 'y', 'kid', PURPOSE_MEMBER, SERVICE_MEMBER],
        properties: {
          kty: { const: 'EC' },
          crv: { const: 'P-256' },
          x: { type: 'string' },
          y: { type: 'string' },
          kid: { type: 'string' },
          alg: { const: 'ES256' },
          use: { const: 'sig' },
          [PURPOSE_MEMBER]: { enum: KEY_PURPOSES.filter((p) => !isEncryptionPurpose(p)), description: 'What the key signs' },
          [SERVICE_MEMBER]: { enum: [...KEY_SERVICES], description: 'The service holding the private key' },
          [SUPERSEDED_MEMBER]: { type: 'integer', description: 'Unix time the key was superseded; it verifies live artefacts for a grace period after' },
          d: false,
        },
        additionalProperties: true,
      },
    },
  },
};

const authorizationServer = {
  type: 'object',
  description: 'RFC 8414 metadata',
  additionalProperties: false,
  required: ['issuer', 'token_endpoint', 'jwks_uri', 'grant_types_supported', 'token_endpoint_auth_methods_supported', 'token_endpoint_auth_signing_alg_values_supported', 'response_types_supported', 'service_documentation'],
  properties: {
    issuer: { type: 'string', format: 'uri' },
    token_endpoint: { type: 'string', format: 'uri' },
    jwks_uri: { type: 'string', format: 'uri' },
    grant_types_supported: { type: 'array', items: { const: 'client_credentials' } },
    token_endpoint_auth_methods_supported: { type: 'array', items: { enum: ['private_key_jwt', 'client_secret_basic'] } },
    token_endpoint_auth_signing_alg_values_supported: { type: 'array', items: { enum: [...ASSERTION_ALGORITHMS] } },
    response_types_supported: { type: 'array', items: { const: 'token' } },
    service_documentation: { type: 'string', format: 'uri' },
  },
};

const MESSAGE_ID = { type: 'string', format: 'uuid', description: 'The message\'s id (GET /v1/messages/{id})' };

// The answers every client reads first (token, submission, status): with the members each always
// has required, so a generated client types them as present (`id: string`, not `id?: string`).
const accessToken = {
  type: 'object',
  additionalProperties: false,
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string', description: 'A JWT: send it as `Authorization: Bearer <access_token>`' },
    token_type: { const: 'Bearer' },
    expires_in: { type: 'integer', minimum: 1, description: 'Seconds the token is valid for' },
  },
};

const accepted = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'status'],
  properties: {
    id: { ...MESSAGE_ID, description: 'The message\'s id; with a list of recipients, the first one\'s' },
    status: { const: 'accepted' },
    recipients: {
      type: 'array',
      description: 'When `to` is a list: one message per recipient, in the order of `to` (`id` is the first)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['member', 'service', 'id'],
        properties: { member: MEMBER_CODE, service: { type: 'string' }, id: MESSAGE_ID },
      },
    },
  },
};

const view = messageViewSchema.properties;
const messageView = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type', 'from', 'to', 'correlationId', 'status', 'events'],
  properties: {
    id: MESSAGE_ID,
    type: { type: 'string' },
    from: { type: 'object', additionalProperties: false, required: ['member', 'system'], properties: { member: MEMBER_CODE, system: { type: 'string', description: 'The sending system (clientId)' } } },
    to: { type: 'object', additionalProperties: false, required: ['member', 'service'], properties: { member: MEMBER_CODE, service: { type: 'string' } } },
    correlationId: { type: 'string' },
    status: { ...view.status, enum: [...MESSAGE_STATUSES] },
    events: {
      ...view.events,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['event', 'at'],
        properties: { event: { type: 'string' }, at: { type: 'string', format: 'date-time' }, detail: { type: 'object', additionalProperties: true, description: 'Absent when the event carries none' } },
      },
    },
  },
};

export const gatewayAnswers: DocumentedAnswers = {
  'POST /v1/token': { 200: json(accessToken) },
  'POST /v1/messages': { 202: json(accepted) },
  'GET /v1/messages/{id}': { 200: json(messageView) },
  'GET /v1/services': { 200: json(services) },
  'GET /v1/members': { 200: json(members) },
  'GET /v1/schemas': { 200: json(schemaIndex) },
  'GET /v1/schemas/{type}': { 200: { 'application/schema+json': publishedSchema } },
  'GET /.well-known/jwks.json': { 200: json(jwks) },
  'GET /.well-known/oauth-authorization-server': { 200: json(authorizationServer) },
};
