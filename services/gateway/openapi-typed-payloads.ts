// The JSON bodies of POST /v1/messages and POST /v1/requests as the OpenAPI document shows them:
// one variant per message type, pairing its `type` with its payload's component schema
// (#/components/schemas/<type>). The route schemas say only `payload: {type: object}` — the
// gateway validates the payload against its type's schema itself — and a client generator reads
// that as an object with no members: openapi-typescript made it `Record<string, never>`, so the
// README's own notice could not be sent through an openapi-fetch client without a cast, and no
// generated client checked a payload against its type. Set on the document only: what the routes
// validate, and how, does not change.
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';

type JsonSchema = Record<string, unknown>;
type OpenApiDocument = { paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>> };

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
  }
  return document;
}
