// The JSON bodies of POST /v1/messages and POST /v1/requests as the OpenAPI document shows them:
// one variant per message type, pairing its `type` with its payload's component schema
// (#/components/schemas/<type>). The route schemas say only `payload: {type: object}` — the
// gateway validates the payload against its type's schema itself — and a client generator reads
// that as an object with no members: openapi-typescript made it `Record<string, never>`, so the
// README's own notice could not be sent through an openapi-fetch client without a cast, and no
// generated client checked a payload against its type. Set on the document only: what the routes
// validate, and how, does not change.
//
// The reply POST /v1/requests answers with is typed the same way: one variant per request/reply
// type, pairing `type` with its reply's component (#/components/schemas/<type>.reply), with the
// members every such answer has required. The route's schema (which Fastify serialises with)
// said `reply: {type: object}` and required nothing, so a generated client saw every member as
// optional and the reply as an untyped map, though the reply schema was in the document.
import { replySchemaName, type SchemaCatalogue } from '../platform/schema-catalogue.js';

type JsonSchema = Record<string, unknown>;
type Content = Record<string, { schema?: JsonSchema }>;
type OpenApiDocument = { paths?: Record<string, Record<string, { requestBody?: { content?: Content }; responses?: Record<string, { content?: Content }> }>> };

/** POST /v1/requests' 200 answer, as the handler builds it (routes/requests.ts). */
function repliedAnswer(requestTypes: string[], description: unknown): JsonSchema {
  return {
    type: 'object',
    description,
    additionalProperties: false,
    required: ['id', 'type', 'status', 'from', 'repliedAt', 'reply'],
    properties: {
      id: { type: 'string', format: 'uuid', description: 'The request\'s message id (GET /v1/messages/{id})' },
      type: { type: 'string', description: 'The request\'s message type' },
      status: { const: 'replied' },
      from: {
        type: 'object',
        additionalProperties: false,
        required: ['member', 'service'],
        description: 'Who answered',
        properties: { member: { type: 'string', pattern: '^[A-Z0-9]+(\\.[A-Z0-9]+)*$', maxLength: 35 }, service: { type: 'string' } },
      },
      repliedAt: { type: 'string', format: 'date-time', description: 'When the provider answered' },
      reply: { type: 'object', description: 'Valid against the type\'s reply schema: GET /v1/schemas/{type}.reply, and #/components/schemas/{type}.reply in this document' },
    },
    oneOf: requestTypes.map((type) => ({
      type: 'object',
      required: ['type', 'reply'],
      properties: { type: { const: type }, reply: { $ref: `#/components/schemas/${replySchemaName(type)}` } },
    })),
  };
}

/** POST /v1/messages takes the one-way types, POST /v1/requests the request/reply ones. */
const BODIES = [
  { path: '/v1/messages', requestReply: false },
  { path: '/v1/requests', requestReply: true },
] as const;

const PAYLOAD = {
  type: 'object',
  additionalProperties: true,
  description: 'The message itself: valid against the schema of its `type` (the body\'s variant for that type names it; also GET /v1/schemas/{type})',
};

/** The document with each JSON submission body narrowed to one variant per message type. */
export function withTypedPayloads<T>(document: T, catalogue: SchemaCatalogue): T {
  const paths = (document as OpenApiDocument).paths ?? {};
  for (const { path, requestReply } of BODIES) {
    const body = paths[path]?.post?.requestBody;
    const json = body?.content?.['application/json'];
    if (!body?.content || !json?.schema) continue;
    const types = [...catalogue.messageTypes.values()].filter((info) => info.requestReply === requestReply).map((info) => info.type).sort();
    if (types.length === 0) continue;
    const properties = (json.schema.properties ?? {}) as Record<string, JsonSchema>;
    // New objects throughout: the document may share the route's schema objects, which validate.
    const schema: JsonSchema = {
      ...json.schema,
      properties: { ...properties, payload: PAYLOAD },
      oneOf: types.map((type) => ({
        type: 'object',
        required: ['type', 'payload'],
        properties: { type: { const: type }, payload: { $ref: `#/components/schemas/${type}` } },
      })),
    };
    body.content = { ...body.content, 'application/json': { ...json, schema } };
    const replied = requestReply ? paths[path]?.post?.responses?.['200'] : undefined;
    const answer = replied?.content?.['application/json'];
    if (replied?.content && answer) replied.content = { ...replied.content, 'application/json': { ...answer, schema: repliedAnswer(types, answer.schema?.description) } };
  }
  return document;
}
