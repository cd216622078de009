// Response headers in the OpenAPI document as they are sent. A header a client generator reads
// as optional (`location?: string`) makes every client check for a header the service always
// sends; one left out of the document is one the client cannot read at all.
//  - Headers a route sends on every answer of a status declare it with alwaysSent()
//    (openapi-shapes.ts): a marker on the header's schema, turned here into the header object's
//    `required: true` (OpenAPI 3.1 §4.8.21), which a route's schema cannot say itself.
//  - The rate limit's headers (@fastify/rate-limit, registered in the gateway's app.ts): every
//    request a rate-limited route counts is answered with X-RateLimit-Limit, -Remaining and
//    -Reset, a refused one (429) with Retry-After too. A 2xx has been counted, and every 429 is
//    the limiter's: on those answers they are always there. A refusal made after the count (a
//    404, a 422, the token endpoint's 400) carries them too, one made before it (a 401 for a
//    missing token, a 400 for a malformed Authorization header) does not: on the other answers
//    they are documented as sent, not as always sent, so a client can read them where they are.
//    Never on a 408, 414 or 431, which the HTTP parser and the router give before any hook runs.
import { operationsOf } from './openapi-operations.js';

/** The marker alwaysSent() puts on a header's schema; never left in the document. */
export const ALWAYS_SENT = 'x-always-sent';

interface HeaderObject {
  description?: string;
  required?: boolean;
  schema?: Record<string, unknown>;
}

interface ResponseObject {
  headers?: Record<string, HeaderObject>;
}


/** The rate limit's headers as @fastify/rate-limit names them (lower case, as sent). */
export const RATE_LIMIT_HEADERS: Record<string, HeaderObject> = {
  'x-ratelimit-limit': {
    description: 'The requests this client may make in the current one-minute window of the clock, counted on every gateway together (authenticated routes), or this network address on this gateway (POST /v1/token, public routes)',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'x-ratelimit-remaining': {
    description: 'The requests left in the current window, this one counted (0 on a 429)',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'x-ratelimit-reset': {
    description: 'Seconds until the current window ends and the count starts again',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
};

function* answers(document: unknown): Generator<[operation: string, status: string, answer: ResponseObject]> {
  for (const [method, path, op] of operationsOf<{ responses?: Record<string, ResponseObject> }>(document)) {
    for (const [status, answer] of Object.entries(op.responses ?? {})) {
      if (answer && typeof answer === 'object') yield [`${method.toUpperCase()} ${path}`, status, answer];
    }
  }
}

/** Every header marked alwaysSent() said `required: true`, the marker taken off its schema. */
export function withHeadersAlwaysSent<T>(document: T): T {
  for (const [, , answer] of answers(document)) {
    for (const header of Object.values(answer.headers ?? {})) {
      if (!header.schema || !(ALWAYS_SENT in header.schema)) continue;
      const { [ALWAYS_SENT]: always, ...schema } = header.schema;
      header.schema = schema;
      if (always === true) header.required = true;
    }
  }
  return document;
}

/**
 * `/v1/messages/:id` → `/v1/messages/{id}`: a Fastify route URL as the OpenAPI document's path
 * (@fastify/swagger's conversion, for the parameters the gateway's routes have).
 */
export function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Answers given before any hook runs, so before the limiter counts the request (408: client-errors.ts, 417: expect-continue.ts). */
const BEFORE_THE_COUNT = new Set(['408', '414', '417', '431']);

/**
 * The rate limit's headers on the answers of the operations the limiter counts
 * (`POST /v1/token`, `GET /v1/messages/{id}`, …): required on their 2xx, 304 and 429, Retry-After
 * required on the 429; optional on their other answers (a refusal may come before the count or
 * after it), none on a 408, 414, 417 or 431. An operation named that the document does not have is
 * skipped (hidden routes: /metrics).
 */
export function withRateLimitHeaders<T>(document: T, limited: ReadonlySet<string>): T {
  for (const [operation, status, answer] of answers(document)) {
    if (!limited.has(operation) || BEFORE_THE_COUNT.has(status)) continue;
    const headers = (answer.headers ??= {});
    const always = /^2/.test(status) || status === '304' || status === '429';
    for (const [name, header] of Object.entries(RATE_LIMIT_HEADERS)) {
      headers[name] = always ? { ...header, schema: { ...header.schema } }
        : { ...header, description: `${header.description}; sent when the request was counted before it was refused (not on a refusal before the count, such as a missing or invalid token)`, required: false, schema: { ...header.schema } };
    }
    if (status === '429') {
      const retryAfter = Object.keys(headers).find((name) => name.toLowerCase() === 'retry-after') ?? 'Retry-After';
      headers[retryAfter] = { description: 'Seconds to wait before trying again: until the window ends', schema: { type: 'integer', minimum: 0 }, ...headers[retryAfter], required: true };
    }
  }
  return document;
}
