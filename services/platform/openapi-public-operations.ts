// A service's public operations (health; on the gateway also the schema index and schemas, the
// keys and the OAuth metadata) said to be public in its OpenAPI document: `security: []`, OpenAPI's way of saying
// "no authentication". The document has no root-level security, so an operation without a
// `security` of its own was public already, but only by omission: linters (Redocly's
// security-defined) refuse the document for it, and a reader cannot tell a public operation from
// one whose requirement was forgotten. Set after the routes' own: an operation that names its
// security keeps it.
import { operationsOf } from './openapi-operations.js';

export function withPublicOperationsSaid<T>(document: T): T {
  for (const [, , op] of operationsOf<{ security?: unknown[] }>(document)) if (op.security === undefined) op.security = [];
  return document;
}
