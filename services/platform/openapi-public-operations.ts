// A service's public operations (health; on the gateway also the schema index and schemas, the
// keys and the OAuth metadata) said to be public in its OpenAPI document: `security: []`, OpenAPI's way of saying
// "no authentication". The document has no root-level security, so an operation without a
// `security` of its own was public already, but only by omission: linters (Redocly's
// security-defined) refuse the document for it, and a reader cannot tell a public operation from
// one whose requirement was forgotten. Set after the routes' own: an operation that names its
// security keeps it.
type OpenApiDocument = { paths?: Record<string, Record<string, { security?: unknown[] }>> };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

export function withPublicOperationsSaid<T>(document: T): T {
  for (const item of Object.values((document as OpenApiDocument).paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.has(method) && op && typeof op === 'object' && op.security === undefined) op.security = [];
    }
  }
  return document;
}
