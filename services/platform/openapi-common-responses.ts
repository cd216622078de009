// Answers every operation of a service can give whatever its route declares, added to the OpenAPI
// document in one place so a generated client knows them (gateway and audit alike):
//  - 400 (a query string or parameter not in its form, on every operation; on operations that
//    take a Bearer token also a malformed Authorization header), 401 with its WWW-Authenticate
//    challenge (RFC 6750 §3) on those, 431 (headers too large: Node's parser refuses them before
//    any route), 500 (INTERNAL_ERROR);
//  - 429 (with Retry-After) only on the operations a rate limit counts, which the service names
//    (the gateway's: its limit is global; the runner and the audit service register none, and
//    a 429 listed there sent client generators looking for a back-off that never comes);
//  - 414 on operations with a path parameter (a segment longer than the router takes), 413,
//    415 and 501 (a transfer coding other than chunked) on operations with a body, and on a POST
//    or PUT that takes none (a body sent anyway is read as its Content-Type says);
//  - 408 on every operation: a request line and headers not received within the headers timeout
//    every service has (service-server-options.ts), and on a service that bounds the whole
//    request (the gateway: `requestTimeoutMs`) a body not received within that; Node's parser ends
//    the request before any route and client-errors.ts answers it, whatever operation it was for;
//  - 417 on every operation: an Expect header other than 100-continue (expect-continue.ts);
//  - 503 SHUTTING_DOWN on every operation: a request that arrives while the service stops
//    (problem-handler.ts), named beside an operation's own 503 codes.
// Headers the bus sends on those answers (Retry-After on 429 and 503, WWW-Authenticate on 401,
// and on the 400 of a malformed Authorization header)
// are described where the answer is. Retry-After is documented required: every 429 is a rate
// limit's (problem.ts: rateLimited) and every 503 a problem made with its retryAfterSeconds
// (STATE_UNAVAILABLE, BUS_UNAVAILABLE, GATEWAY_BUSY, NOT_READY, AUDIT_UNAVAILABLE, SHUTTING_DOWN)
// or the token endpoint's temporarily_unavailable, which sets it (routes/token.ts). Every
// problem+json answer lists the five members every problem of the bus carries as required
// (problem.ts: ProblemError.toBody always writes them), so a generated client may rely on them.
// The route schemas Fastify serialises with stay as they are: the required list is set on a copy
// in the document only.
// Every operation gets an operationId derived from its method and path when its route names
// none (`GET /v1/messages/{id}` → `getMessagesById`): client generators name methods by it.
import { problemResponse } from './openapi-shapes.js';
import { operationsOf } from './openapi-operations.js';
import { HEADERS_TIMEOUT_MS } from './service-server-options.js';
import { formatPeriod } from './duration-text.js';

interface MediaTypeObject {
  schema?: Record<string, unknown>;
}

interface ResponseObject {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}

interface Operation {
  operationId?: string;
  security?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, ResponseObject>;
}


/** Members every problem+json answer of the bus carries (ProblemError.toBody). */
export const PROBLEM_MEMBERS = ['type', 'title', 'status', 'detail', 'code'] as const;

/** Methods whose requests carry a body when the client sends one (Fastify reads it; GET's it ignores). */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

const RETRY_AFTER = { description: 'Seconds to wait before trying again', required: true, schema: { type: 'integer', minimum: 0 } };
const SHUTTING_DOWN = 'SHUTTING_DOWN: this instance is stopping (a restart or a deploy); nothing was done, retry on a new connection';
const MALFORMED_AUTHORIZATION_CHALLENGE = { description: 'Bearer realm="lgsp", error="invalid_request" (RFC 6750 §3.1): sent when the Authorization header is not one Bearer token, not on other 400s', schema: { type: 'string' } };
const WWW_AUTHENTICATE = { description: 'The Bearer challenge (RFC 6750 §3): error="invalid_request" for a malformed header, error="invalid_token" for a refused token', schema: { type: 'string' } };

/**
 * `get /v1/messages/{id}` → `getMessagesById`, `post /v1/inbox/{id}/ack` → `postInboxByIdAck`,
 * `get /.well-known/jwks.json` → `getWellKnownJwksJson`: the method, then each path segment in
 * camel case (a leading API version left out, parameters as `By<Name>`).
 */
export function operationIdOf(method: string, path: string): string {
  const words = (text: string) => text.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1));
  const segments = path.split('/').filter(Boolean);
  if (segments.length > 1 && /^v\d+$/.test(segments[0])) segments.shift();
  const parts = segments.map((s) => {
    const parameter = /^\{(.+)\}$/.exec(s);
    return parameter ? `By${words(parameter[1]).join('')}` : words(s).join('');
  });
  return method.toLowerCase() + parts.join('');
}

/** The 408's description: the headers timeout every service has, and the whole request's where the service sets one. */
export function requestTimeoutDescription(requestTimeoutMs?: number, idleTimeoutMs?: number): string {
  const whole = requestTimeoutMs ? `, or the whole request, its body included, not within ${formatPeriod(requestTimeoutMs / 1000)}` : '';
  // The idle timeout is exact (a socket timer), not checked every 30 s like the two above.
  const idle = idleTimeoutMs ? `; or its body stopped arriving: nothing for ${formatPeriod(idleTimeoutMs / 1000)}, answered then` : '';
  return `The request line and headers did not all arrive within ${formatPeriod(HEADERS_TIMEOUT_MS / 1000)}${whole} (checked every 30 s, so answered up to 30 s later)${idle}; answered before any route, the connection closes (REQUEST_TIMEOUT)`;
}

/**
 * The document with the common answers and operationIds added to every operation that lacks them.
 * `rateLimited`: the operations a rate limit counts (`GET /v1/messages/{id}`), which get a 429.
 * `requestTimeoutMs`: the service's bound on the whole request (Fastify's `requestTimeout`), when
 * it sets one; its 408 says so. `idleTimeoutMs`: its idle timeout (Fastify's `connectionTimeout`),
 * after which a body that stopped arriving is answered 408 (client-errors.ts answerStalledRequests).
 */
export function withCommonResponses<T>(document: T, rateLimited: ReadonlySet<string> = new Set(), opts: { unknownQueryRefused?: boolean; requestTimeoutMs?: number; idleTimeoutMs?: number } = {}): T {
  const taken = new Set<string>();
  for (const [, , op] of operationsOf<Operation>(document)) if (op.operationId) taken.add(op.operationId);
  for (const [method, path, op] of operationsOf<Operation>(document)) {
    if (!op.operationId) {
      let id = operationIdOf(method, path);
      for (let n = 2; taken.has(id); n++) id = `${operationIdOf(method, path)}${n}`;
      taken.add(id);
      op.operationId = id;
    }
    const responses = (op.responses ??= {});
    const bearer = Array.isArray(op.security) && op.security.some((s) => s && typeof s === 'object' && 'bearer' in s);
    // The gateway's reads refuse a query parameter they do not take (unknown-query-parameters.ts).
    const unknownQuery = opts.unknownQueryRefused && method.toLowerCase() === 'get' ? ', a query parameter the operation does not take (VALIDATION_FAILED, `querystring.<name>`)' : '';
    // Each names the codes it carries, as a route's own answers do (problemResponsesWithCodes):
    // a generated client branches on `code`. A body sent to a POST or PUT is read as its
    // Content-Type says, so a broken JSON one is MALFORMED_JSON there.
    const malformedBody = BODY_METHODS.has(method.toLowerCase()) ? ', a JSON body that is not valid JSON (MALFORMED_JSON)' : '';
    responses['400'] ??= problemResponse(
      `A malformed request: a parameter or query string not in its form (U+0000: VALIDATION_FAILED; percent-encoding that is not UTF-8: BAD_REQUEST)${unknownQuery}${malformedBody}` +
        (bearer ? ', or an Authorization header that is not one Bearer token (BAD_REQUEST)' : ''),
    );
    if (bearer) responses['401'] ??= problemResponse('No token (UNAUTHENTICATED), or a refused one (INVALID_TOKEN)');
    if (path.includes('{')) responses['414'] ??= problemResponse('A path segment longer than this service accepts (URI_TOO_LONG)');
    if (op.requestBody) {
      responses['413'] ??= problemResponse('The body exceeds the size limit (PAYLOAD_TOO_LARGE)');
      responses['415'] ??= problemResponse('A body of a content type this operation does not take (UNSUPPORTED_MEDIA_TYPE)');
      responses['501'] ??= problemResponse('A body sent with a transfer coding other than chunked, e.g. gzip (TRANSFER_CODING_NOT_IMPLEMENTED)');
    } else if (BODY_METHODS.has(method.toLowerCase())) {
      // A POST or PUT that takes no body: one sent anyway (a JSON `{}` out of habit, a tool's
      // multipart header with no content) is still read as its Content-Type says, and refused so.
      responses['413'] ??= problemResponse('This operation takes no body; one sent anyway exceeds the size limit (PAYLOAD_TOO_LARGE)');
      responses['415'] ??= problemResponse('This operation takes no body; one sent anyway (even empty) under a content type no service reads, e.g. multipart/form-data: send none, or no Content-Type (UNSUPPORTED_MEDIA_TYPE)');
      responses['501'] ??= problemResponse('This operation takes no body; one sent anyway with a transfer coding other than chunked, e.g. gzip (TRANSFER_CODING_NOT_IMPLEMENTED)');
    }
    if (rateLimited.has(`${method.toUpperCase()} ${path}`)) responses['429'] ??= problemResponse('Too many requests from this client or address (RATE_LIMITED)');
    // Node's parser ends a request whose headers (or, where bounded, whole body) come too slowly,
    // before any route: every operation can meet it (client-errors.ts).
    responses['408'] ??= problemResponse(requestTimeoutDescription(opts.requestTimeoutMs, opts.idleTimeoutMs));
    // Node hands an Expect other than 100-continue to expect-continue.ts before any route: every
    // operation can meet it (a generated client saw a status its operation did not list).
    responses['417'] ??= problemResponse('An Expect header other than 100-continue, the only expectation this service meets; answered before the request is read, the connection closes (EXPECTATION_FAILED)');
    responses['431'] ??= problemResponse('The request line and headers together exceed what this service accepts (HEADERS_TOO_LARGE)');
    responses['500'] ??= problemResponse('An unexpected error, logged by the service; no details returned (INTERNAL_ERROR)');
    const unavailable = responses['503'];
    if (!unavailable) responses['503'] = problemResponse(`The service cannot take the request now (${SHUTTING_DOWN})`);
    else if (unavailable.content?.['application/problem+json'] && !unavailable.description?.includes('SHUTTING_DOWN')) unavailable.description = `${unavailable.description ?? ''}; also ${SHUTTING_DOWN}`;
    for (const status of ['429', '503']) {
      const answer = responses[status];
      if (answer) answer.headers = { 'Retry-After': RETRY_AFTER, ...answer.headers };
    }
    if (bearer && responses['401']) responses['401'].headers = { 'WWW-Authenticate': WWW_AUTHENTICATE, ...responses['401'].headers };
    // A malformed Authorization header (`Bearer ` with no token) is a 400 with its challenge
    // (RFC 6750 §3.1: error="invalid_request"); not on a 400 for anything else.
    if (bearer && responses['400']) responses['400'].headers = { 'WWW-Authenticate': MALFORMED_AUTHORIZATION_CHALLENGE, ...responses['400'].headers };
    for (const answer of Object.values(responses)) {
      const problem = answer?.content?.['application/problem+json'] as MediaTypeObject | undefined;
      if (problem?.schema) problem.schema = { ...problem.schema, required: [...PROBLEM_MEMBERS] };
    }
  }
  return document;
}
