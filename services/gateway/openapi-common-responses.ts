// Answers every gateway operation can give whatever its route declares, added to the OpenAPI
// document in one place so a generated client knows them: 429 (the rate limit is global, with
// Retry-After), and on operations that take a Bearer token a 400 for a malformed Authorization
// header and a 401 with its WWW-Authenticate challenge (RFC 6750 §3). Headers the bus sends on
// those answers (Retry-After on 429 and 503, WWW-Authenticate on 401) are described where the
// answer is.
import { problemResponse } from '../platform/openapi-shapes.js';

interface ResponseObject {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}

interface Operation {
  security?: unknown[];
  responses?: Record<string, ResponseObject>;
}

type OpenApiDocument = { paths?: Record<string, Record<string, Operation>> };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

const RETRY_AFTER = { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } };
const WWW_AUTHENTICATE = { description: 'The Bearer challenge (RFC 6750 §3): error="invalid_request" for a malformed header, error="invalid_token" for a refused token', schema: { type: 'string' } };

/** The document with the common answers added to every operation that does not describe them. */
export function withCommonResponses<T>(document: T): T {
  const paths = (document as OpenApiDocument).paths ?? {};
  for (const item of Object.values(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method) || !op || typeof op !== 'object') continue;
      const responses = (op.responses ??= {});
      responses['429'] ??= problemResponse('Too many requests from this client or address (RATE_LIMITED)');
      const bearer = Array.isArray(op.security) && op.security.some((s) => s && typeof s === 'object' && 'bearer' in s);
      if (bearer) {
        responses['400'] ??= problemResponse('A malformed request: a parameter not in its form, or an Authorization header that is not one Bearer token');
        responses['401'] ??= problemResponse('No token, or a refused one');
      }
      for (const status of ['429', '503']) {
        const answer = responses[status];
        if (answer) answer.headers = { 'Retry-After': RETRY_AFTER, ...answer.headers };
      }
      if (bearer && responses['401']) responses['401'].headers = { 'WWW-Authenticate': WWW_AUTHENTICATE, ...responses['401'].headers };
    }
  }
  return document;
}
