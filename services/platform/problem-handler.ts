// Fastify plugin turning every error (ours, Fastify's, ajv's) into problem+json. Stack traces
// are logged server-side, never sent.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { fieldErrorsDetail, ProblemError, problems, type FieldError } from './problem.js';
import { isDatabaseUnavailable } from './database.js';
import { fieldPath, pointerSegments } from './field-path.js';
import { RouteMethods } from './route-methods.js';
import { textProblem } from './text-guard.js';
import { DOCUMENTED_TIME_BOUND_SCHEMA, TIME_BOUND_FORM_MESSAGE } from './time-bound.js';
import { useUtf8JsonParser } from './utf8-json-parser.js';
import { emptyBodiesAreNoBodies } from './empty-body-routes.js';
import { headerLineCount } from './header-lines.js';
import { deferContinue } from './expect-continue.js';
import { answerStalledRequests, refuseTunnels } from './client-errors.js';
import { hostHeaderProblem } from './host-header.js';
import { ANSWER_SECURITY_HEADERS } from './security-headers.js';
import { withoutUntakenBranches, type SchemaError } from './schema-branch-errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks its input with textProblem itself (text-guard.ts) and answers in its own error format. */
    ownTextCheck?: boolean;
    /**
     * Members the 405 for this route's path adds to its problem (RFC 9457 §3.2 extensions): the
     * wrong method never reaches the route's scope (the not-found handler answers it), so its
     * hooks cannot add them. The token endpoint's OAuth `error` and `error_description`.
     */
    wrongMethodMembers?: Record<string, string>;
    /**
     * What a caller whose body is over the limit does instead, said in its 413 after the limit
     * (POST /v1/messages: large files go as attachments, by reference).
     */
    tooLargeHint?: string;
  }
}

/**
 * A problem's `instance` for a request URL: the path the caller asked for, never its query
 * string (a query can carry an access_token or personal data, such as a citizen id in a search,
 * and problem bodies end up in client logs and tickets).
 */
export function problemInstance(url: string): string {
  return url.split('?')[0];
}

export function sendProblem(reply: FastifyReply, err: ProblemError, url?: string): FastifyReply {
  if (err.extras.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.extras.retryAfterSeconds));
  return reply.code(err.status).type('application/problem+json').send(err.toBody(url === undefined ? undefined : problemInstance(url)));
}

type AjvLikeError = SchemaError;

/**
 * An empty string where the schema says `minLength: 1` and `pattern: "\\S"` (correlationId) fails
 * both: one fault, told twice. The length says it; the blank rule stays for white space alone.
 */
function withoutRestatedBlanks(errors: AjvLikeError[]): AjvLikeError[] {
  const tooShort = new Set(errors.filter((e) => e.keyword === 'minLength').map((e) => e.instancePath));
  return tooShort.size === 0 ? errors : errors.filter((e) => !(e.keyword === 'pattern' && e.params?.pattern === '\\S' && tooShort.has(e.instancePath)));
}

/**
 * Field names as `payload.subject`, `to[1].member` (field-path.ts); the errors of the oneOf
 * branches the value did not take left out (schema-branch-errors.ts). `document`, the value the
 * schema was applied to, tells array indices from members named with digits (without it, a
 * segment of digits reads as an index).
 */
export function fieldErrors(errors: AjvLikeError[], prefix = '', document?: unknown): FieldError[] {
  return withoutRestatedBlanks(withoutUntakenBranches(errors)).map((e) => {
    // A property may be named "" (`?=1`, `{"": 1}`): it is still named, not left for "must NOT have additional properties".
    const extra = (e.params?.missingProperty ?? e.params?.additionalProperty) as string | undefined;
    const segments = pointerSegments(e.instancePath ?? '', document);
    const field = fieldPath(extra !== undefined ? [...segments, extra] : segments, prefix);
    const message = e.params?.additionalProperty !== undefined ? `unknown property "${extra}"` : explainedMessage(e) ?? e.message ?? 'invalid';
    return { field, message };
  });
}

/**
 * Ajv says "must be equal to one of the allowed values" and leaves them in `params`: a caller that
 * sent `"kind": "person"` learnt that it was wrong, not what is right. The values are named; so
 * is, with an example, what the formats the schemas use take ("must match format \"date-time\""
 * did not say that the offset is required).
 */
function explainedMessage(e: AjvLikeError): string | undefined {
  if (e.keyword === 'format' && typeof e.params?.format === 'string' && FORMAT_EXAMPLES[e.params.format]) return FORMAT_EXAMPLES[e.params.format];
  const shown = (values: unknown[]) => {
    const named = values.slice(0, MAX_NAMED_VALUES).map((v) => JSON.stringify(v)).join(', ');
    return values.length > MAX_NAMED_VALUES ? `${named}, … (${values.length} in all)` : named;
  };
  if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) return `must be one of ${shown(e.params.allowedValues)}`;
  if (e.keyword === 'const' && e.params && 'allowedValue' in e.params) return `must be ${JSON.stringify(e.params.allowedValue)}`;
  if (e.keyword === 'pattern' && typeof e.params?.pattern === 'string' && PATTERN_MEANINGS[e.params.pattern]) return PATTERN_MEANINGS[e.params.pattern];
  // The field already names the property: "documentId must have required property 'documentId'" said it twice.
  if (e.keyword === 'required') return REQUIRED_MESSAGE;
  return undefined;
}

const MAX_NAMED_VALUES = 20;

/** What a field error says of a property left out (edoc-rules.ts restates it in edXML terms). */
export const REQUIRED_MESSAGE = 'is required';

/** What an electronic agency code (a member code) looks like, in the words every refusal of one uses. */
export const AGENCY_CODE_MEANING = 'must be an electronic agency code: groups of capital letters and digits joined by dots, e.g. 000.00.15.H49 (GET /v1/members lists them)';

/** Patterns whose regular expression says less to a caller than these words. */
const PATTERN_MEANINGS: Record<string, string> = {
  '\\S': 'must not be blank (white space only)',
  // A member code in lower case ("000.00.15.h49") or with a space is the common slip.
  '^[A-Z0-9]+(\\.[A-Z0-9]+)*$': AGENCY_CODE_MEANING,
  '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$': 'must be a message type: lower-case words joined by dots, e.g. notice.send (GET /v1/schemas lists them)',
  '^[a-z][a-z0-9-]*(\\.([a-z][a-z0-9-]*|\\*))+$': 'must be a message type (edoc.status) or a family of them (edoc.*)',
  // GET /v1/inbox's page size: a refusal of 1000 that did not say 100 is the most left the caller guessing.
  '^([1-9][0-9]?|100)$': 'must be a whole number from 1 to 100 (default 50)',
  '^[0-9]{1,15}$': 'must be the `next` value of the previous page (a whole number)',
  '^[0-9a-f]{64}$': 'must be a SHA-256 digest: 64 lower-case hexadecimal digits',
  '^[0-9a-fA-F]{64}$': 'must be a SHA-256 digest: 64 hexadecimal digits',
  // The console's KPI period (whole days): "must match pattern" told an operator nothing.
  '^\\d{4}-\\d{2}-\\d{2}$': 'must be an ISO 8601 date, YYYY-MM-DD (e.g. 2026-12-03), without a time',
  '^[a-z][a-z0-9-]{1,62}$': 'must be a connector name: lower-case letters, digits and dashes, starting with a letter',
  [DOCUMENTED_TIME_BOUND_SCHEMA.pattern]: TIME_BOUND_FORM_MESSAGE,
  // edXML's own forms (QCVN 102): QLVB systems that write dates the Vietnamese way (10/05/2026)
  // or as ISO dates (2026-05-10) were answered with the regular expression.
  '^[0-9]{4}/[0-9]{2}/[0-9]{2}$': 'must be a date written YYYY/MM/DD, e.g. 2026/03/05 (the edXML form: not 05/03/2026, not 2026-03-05)',
  '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$': 'must be a date and time written YYYY/MM/DD HH:mm:ss, e.g. 2026/03/05 10:02:11 (the edXML form)',
  '^[A-Z0-9]+(\\.[A-Z0-9]+)*,[0-9]{4}/[0-9]{2}/[0-9]{2},[^,]+$': 'must be a DocumentId: <sender\'s agency code>,<YYYY/MM/DD>,<number/notation>, e.g. 000.00.00.H49,2026/03/05,125/QĐ-UBND',
  // The portal's codes in dossier messages.
  '^[A-Za-z0-9][A-Za-z0-9._/-]{0,49}$': 'must be a dossier code (MaHoSo): 1 to 50 letters, digits and . _ / -, starting with a letter or digit, e.g. 000.00.15.H49-260115-0001',
  '^[0-9]\\.[0-9]{6}(\\.[A-Z0-9]+)*$': 'must be a procedure code (MaTTHC): a digit, a dot and six digits, e.g. 1.001234, or a local variant with the agency code appended, e.g. 1.001234.000.00.15.H49',
  '^[A-Za-z0-9._-]{1,50}$': 'must be a sector code (MaLinhVuc): 1 to 50 letters, digits and . _ -, e.g. LLTP',
  '^[0-9A-Z]{6,20}$': 'must be 6 to 20 digits or capital letters, without spaces (a citizen id or enterprise code)',
  '^[0-9+ .()-]{6,20}$': 'must be a phone number: 6 to 20 digits, spaces and + . ( ) -',
};

const FORMAT_EXAMPLES: Record<string, string> = {
  // Also what a day the calendar lacks gets (2026-02-30): the form alone looked right to its writer.
  'date-time': 'must be an RFC 3339 date and time with its offset, e.g. 2026-01-15T08:30:00+07:00, on a day the calendar has (not 2026-02-30)',
  date: 'must be a calendar date YYYY-MM-DD, e.g. 2026-01-15',
  email: 'must be an e-mail address',
  uri: 'must be an absolute URI, e.g. https://example.gov.vn/a',
};

/**
 * A 415's detail: what the operation takes (when the service knows: `mediaTypes`) and what the
 * request said. "JSON endpoints take application/json" told a QLVB vendor posting edXML as
 * text/plain, or with curl's default form type, nothing of the XML types POST /v1/messages takes.
 */
function unsupportedMediaTypeDetail(req: FastifyRequest, mediaTypes: MediaTypesOf | undefined, openapiPath: string): string {
  const url = req.routeOptions?.url;
  const taken = url ? mediaTypes?.(req.method, url) : undefined;
  const what = taken?.length ? `${req.method} ${url} takes ${taken.join(', ')}` : `send the body in a media type this endpoint takes (JSON endpoints take application/json; this service's OpenAPI document at ${openapiPath} lists each endpoint's)`;
  const received = req.headers['content-type']?.split(';')[0].trim().slice(0, 100);
  // curl -d / --data-binary without -H 'Content-Type: …' sends a form: the usual way here.
  const form = received === 'application/x-www-form-urlencoded' ? ', what curl -d and --data-binary send unless told otherwise with -H "Content-Type: …"' : '';
  return `Unsupported Media Type: ${what}; this request's Content-Type is ${received ? `${received}${form}` : 'missing'}`;
}

/** The name of a path parameter the request left empty (not a wildcard's rest), if any. */
function emptyPathParameter(req: FastifyRequest): string | undefined {
  const params = req.params as Record<string, unknown> | undefined;
  if (!params || typeof params !== 'object') return undefined;
  return Object.keys(params).find((name) => name !== '*' && params[name] === '');
}

/** The media types an operation's body may have, by method and route URL; undefined when the service does not say. */
export type MediaTypesOf = (method: string, url: string) => readonly string[] | undefined;

/**
 * The problem the services answer for an error a route threw or Fastify raised: for an app that
 * does not register problemHandler (the simulators' control endpoints, control-problems.ts).
 */
export function problemOf(err: FastifyError, req: FastifyRequest, maxBodyBytes: number): ProblemError {
  return toProblem(err, req.routeOptions?.bodyLimit ?? maxBodyBytes, req.method, req.query, err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? `Unsupported Media Type: send JSON (application/json); this request's Content-Type is ${req.headers['content-type']?.split(';')[0].trim().slice(0, 100) || 'missing'}` : '');
}

function toProblem(err: FastifyError & { validation?: AjvLikeError[] }, maxBodyBytes: number, method: string, query?: unknown, mediaTypeDetail = '', querySchema?: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  // PostgreSQL down or restarting: the caller retries, nothing half-done was kept.
  if (isDatabaseUnavailable(err)) return problems.databaseUnavailable(5, method === 'GET' || method === 'HEAD');
  if (err.validation) return validationProblem(err.validation, err.validationContext, query, querySchema);
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problems.malformedJson(err.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problems.tooLarge(maxBodyBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // Fastify says only what it got: say what to send instead.
      return problems.unsupportedMediaType(mediaTypeDetail);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problems.unsupportedMediaType(err.message);
  }
  if (err.statusCode === 429) return problems.rateLimited(Number((err as { retryAfter?: number }).retryAfter ?? 60));
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return problems.badRequest(err.message);
  return new ProblemError(500, 'INTERNAL_ERROR', 'Internal error', 'An unexpected error occurred; it has been logged');
}

/**
 * The VALIDATION_FAILED problem for a part of a request its schema refused (`context`: body,
 * querystring, params, headers), as the service answers it; `query` tells a repeated query
 * parameter. Also for a route that adds faults of its own to the schema's (POST /v1/messages: a
 * bad Idempotency-Key in the same refusal).
 */
export function validationProblem(validation: AjvLikeError[], context: string | undefined, query?: unknown, querySchema?: unknown): ProblemError {
  const found = context !== 'querystring' ? validation : withRanges(givenOnce(validation, query), querySchema);
  const errors = fieldErrors(found, context === 'body' ? '' : context);
  const part = context === 'querystring' || context === 'params' || context === 'headers' || context === 'body' ? context : undefined;
  return problems.validation(fieldErrorsDetail(errors, part), errors);
}

/**
 * A whole-number parameter out of range (`?limit=1000`) is told its whole range and default,
 * read from the route's query schema: ajv says only the bound it broke ("must be <= 500"), and
 * a caller that sent 0 learnt of the 1 but not the 500.
 */
function withRanges(errors: AjvLikeError[], querySchema: unknown): AjvLikeError[] {
  const properties = (querySchema as { properties?: Record<string, { type?: unknown; minimum?: unknown; maximum?: unknown; default?: unknown }> } | undefined)?.properties;
  if (!properties) return errors;
  return errors.map((e) => {
    if (e.keyword !== 'maximum' && e.keyword !== 'minimum') return e;
    const property = properties[(e.instancePath ?? '').slice(1)];
    if (property?.type !== 'integer' || typeof property.minimum !== 'number' || typeof property.maximum !== 'number') return e;
    const fallback = property.default === undefined ? '' : ` (default ${String(property.default)})`;
    return { ...e, message: `must be a whole number from ${property.minimum} to ${property.maximum}${fallback}` };
  });
}

/**
 * `?limit=1&limit=2` arrives as a list: "must be string" did not say what was wrong, nor did
 * "must be one of \"json\", \"edxml\"" for `?format=json&format=edxml` (each value is one of
 * them). Whatever the schema's keyword, a parameter given more than once is told so, once.
 */
function givenOnce(errors: AjvLikeError[], query: unknown): AjvLikeError[] {
  const repeated = new Set<string>();
  return errors.flatMap((e) => {
    // An error about the parameter itself (`/format`), not about an element of a parameter that takes a list.
    const name = (e.instancePath ?? '').split('/')[1];
    if (e.instancePath !== `/${name}` || !Array.isArray(queryValue(query, e.instancePath))) return [e];
    if (repeated.has(name)) return [];
    repeated.add(name);
    return [{ ...e, keyword: 'repeated', params: {}, message: 'must be given once' }];
  });
}

/** A query parameter's value by the instance path of a validation error (`/limit`). */
function queryValue(query: unknown, instancePath: string | undefined): unknown {
  const name = (instancePath ?? '').split('/')[1];
  return name !== undefined && query !== null && typeof query === 'object' ? (query as Record<string, unknown>)[name] : undefined;
}

/** Whether percent-encoded URL text decodes to UTF-8 (a stray `%` or a broken sequence does not). */
function decodesAsUtf8(encoded: string): boolean {
  try {
    decodeURIComponent(encoded);
    return true;
  } catch {
    return false;
  }
}

/**
 * Fastify's `frameworkErrors` option, for every service: URLs its router refuses before any
 * hook runs (percent-encoding that does not decode to UTF-8, a path parameter longer than
 * maxParamLength) answered as problem+json like everything else, not Fastify's own JSON.
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  let problem: ProblemError;
  if (err.code === 'FST_ERR_BAD_URL') problem = problems.badRequest('The URL does not decode to UTF-8 text (check its percent-encoding)');
  else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') problem = new ProblemError(414, 'URI_TOO_LONG', 'URI too long', 'A path segment of the URL is longer than this service accepts');
  else {
    req.log.error({ err }, 'router error');
    problem = new ProblemError(500, 'INTERNAL_ERROR', 'Internal error', 'An unexpected error occurred; it has been logged');
  }
  void sendProblem(reply, problem, req.url);
}

/**
 * `mediaTypes`: what each operation takes, for its 415; `openapiPath`: where the service serves
 * its OpenAPI document (/docs on the gateway, /openapi.json on the runner and the audit), named
 * by a 415 that has no list of its own. A runner's 415 sent operators to the gateway's /docs.
 */
export const problemHandler = fp(async function problemHandler(app: FastifyInstance, opts: { maxBodyBytes: number; mediaTypes?: MediaTypesOf; openapiPath?: string }) {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    // A client that hangs up mid-body surfaces as ECONNRESET "aborted", which reads like a
    // database connection lost: say what it was (nobody is left to answer).
    if (req.raw.destroyed && err.code === 'ECONNRESET') {
      req.log.info({ url: req.url }, 'the client closed the connection before its request was read');
      return sendProblem(reply, problems.badRequest('The connection closed before the request body was complete'), req.url);
    }
    // The route's own limit when it has one (attachment uploads take far more than JSON bodies).
    let problem = toProblem(err, req.routeOptions?.bodyLimit ?? opts.maxBodyBytes, req.method, req.query, err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? unsupportedMediaTypeDetail(req, opts.mediaTypes, opts.openapiPath ?? '/docs') : '', req.routeOptions?.schema?.querystring);
    const tooLargeHint = req.routeOptions?.config?.tooLargeHint;
    if (tooLargeHint && problem.code === 'PAYLOAD_TOO_LARGE') problem = new ProblemError(413, problem.code, problem.title, `${problem.detail}: ${tooLargeHint}`);
    if (problem.status >= 500 && problem.code === 'INTERNAL_ERROR') req.log.error({ err }, 'unhandled error');
    if (problem.code === 'STATE_UNAVAILABLE') req.log.warn({ err: err.message }, 'PostgreSQL unavailable');
    return sendProblem(reply, problem, req.url);
  });
  // Every service registers this plugin first: its JSON bodies are UTF-8 or refused.
  // A JSON body that opens like XML is told the type to send where the operation takes XML.
  useUtf8JsonParser(app, (req) => opts.mediaTypes?.(req.method, req.routeOptions.url ?? '')?.some((m) => /[/+]xml$/.test(m)) ?? false);
  // An empty body to a route that takes none is handled whatever type it declares (empty-body-routes.ts).
  emptyBodiesAreNoBodies(app);
  // And a client that waits for "100 Continue" gets a refusal instead when one is due
  // (expect-continue.ts).
  deferContinue(app.server);
  // CONNECT never reaches Fastify; answered 501 instead of a silent close (client-errors.ts).
  refuseTunnels(app.server);
  // A body that stops arriving past the idle timeout is answered 408, not cut off unanswered.
  answerStalledRequests(app.server);
  // Headers every answer carries, errors included, unless its route says otherwise:
  //  - X-Content-Type-Options: nosniff. No answer is for a browser to sniff into another type
  //    (a JSON body read as HTML).
  //  - Cache-Control: no-store. Answers hold agency data — statuses, inbox items, documents,
  //    citizens' dossiers in the console, audit entries — for an authenticated caller: no
  //    browser, client library or proxy keeps a copy. A route whose answer may be kept sets its
  //    own, which replaces this (the JWKS: public, 60 s; the console's page files: no-cache).
  //  - X-Frame-Options: DENY. No answer is framed by another site (clickjacking on the console;
  //    its CSP frame-ancestors says the same to current browsers, this to older ones).
  //  - Content-Security-Policy: default-src 'none'; frame-ancestors 'none'. An API answer opened
  //    in a browser (a link to a JSON answer, a problem echoing the path) runs nothing, loads
  //    nothing and is framed by no one. The pages (the console's, the gateway's /docs) set a
  //    policy of their own, which replaces this.
  //  - Referrer-Policy: no-referrer. A page of the bus never names its URL (ids, filters in the
  //    query string) to another site.
  // The HTTP parser's refusals carry the same (client-errors.ts).
  // The same hook checks the Host lines (host-header.ts): it runs first for every request. And
  // it refuses every request once the service stops (app.close(): Fastify then sends
  // `Connection: close`), as 503 SHUTTING_DOWN with Retry-After: service-server-options.ts turns
  // Fastify's own answer, which had no Retry-After, off.
  let stopping = false;
  app.addHook('preClose', (done) => {
    stopping = true;
    done();
  });
  app.addHook('onRequest', (req, reply, done) => {
    reply.headers(ANSWER_SECURITY_HEADERS);
    done((stopping ? problems.shuttingDown() : hostHeaderProblem(req)) ?? undefined);
  });
  // No service decodes compressed bodies: without this a gzip body reached the JSON parser as
  // bytes and was refused as "not UTF-8", which sends the caller looking in the wrong place.
  app.addHook('preParsing', async (req, reply) => {
    // Node keeps the first of two Content-Type lines and drops the other unseen: a filter in
    // front that read the other would judge the body as a type the service never parsed it as.
    if (headerLineCount(req, 'content-type') > 1) throw problems.badRequest('Send the Content-Type header once: this request carries several');
    // Node's parser takes `Transfer-Encoding: gzip, chunked` and undoes only the chunking: the
    // gzip bytes reached the JSON parser as "not UTF-8", and a sender that declared gzip without
    // compressing had its body taken as if it had not. RFC 9112 §6.1: a coding the server does not
    // understand is a 501. (The parser itself refuses a Transfer-Encoding not ending in chunked.)
    const transfer = req.headers['transfer-encoding'];
    if (transfer !== undefined && !/^\s*chunked\s*$/i.test(transfer)) {
      throw new ProblemError(501, 'TRANSFER_CODING_NOT_IMPLEMENTED', 'Transfer coding not implemented', `Transfer-Encoding ${transfer.slice(0, 100)} is not accepted: send the body with Transfer-Encoding: chunked alone (or a Content-Length), uncompressed`);
    }
    const coding = req.headers['content-encoding']?.trim().toLowerCase();
    if (coding && coding !== 'identity') {
      // RFC 9110 §15.5.16: a 415 for the coding names the codings taken, so a client that
      // compresses by default (RFC 7694) can send again without one.
      reply.header('accept-encoding', 'identity');
      throw problems.unsupportedMediaType(`Content-Encoding ${coding} is not accepted: send the body uncompressed`);
    }
    // A request no route takes is answered for its route before its body is parsed (noRoute, below).
    if (req.is404) return noRoute(req, reply);
  });
  // Registered before any route of the service (every service registers this plugin first).
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method, route.config?.wrongMethodMembers));
  // Text no service can keep or pass on (text-guard.ts), refused before schema validation and
  // before any handler sees it: path parameters, query string, and a parsed JSON body (an XML or
  // binary body is its own parser's to judge).
  app.addHook('preValidation', async (req) => {
    // A route that answers in another error format (the OAuth token endpoint) checks for itself.
    if (req.routeOptions.config?.ownTextCheck) return;
    // The router refuses a path that does not decode (frameworkErrors); the query-string parser
    // would quietly turn such bytes into other text, so the query is checked here the same way.
    const queryAt = req.url.indexOf('?');
    if (queryAt >= 0 && !decodesAsUtf8(req.url.slice(queryAt + 1))) {
      throw problems.badRequest('The query string does not decode to UTF-8 text (check its percent-encoding)');
    }
    // A path parameter left empty (GET /v1/messages/, a trailing '/' where the id goes) names no
    // resource: the route is said with its parameter, not "No message  that you may see".
    const empty = emptyPathParameter(req);
    if (empty) {
      const path = req.url.split('?')[0];
      const withoutSlash = routes.withoutTrailingSlash(path, req.method);
      const hint = withoutSlash ? `the route is ${req.method} ${withoutSlash}, without the trailing "/"` : `${req.method} ${req.routeOptions.url?.replace(/:(\w+)/g, '{$1}')} needs its ${empty}`;
      throw problems.notFound('ROUTE_NOT_FOUND', `No route ${req.method} ${path}: ${hint}`);
    }
    const body = req.body;
    const inPath = textProblem(req.params, 'params');
    const inQuery = inPath ? null : textProblem(req.query, 'querystring');
    const inBody = inPath || inQuery || body === null || typeof body !== 'object' ? null : textProblem(body);
    const problem = inPath ?? inQuery ?? inBody;
    if (problem) throw problems.validation(fieldErrorsDetail([problem], inPath ? 'params' : inQuery ? 'querystring' : 'body'), [problem]);
  });
  const noRoute = (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    const allow = routes.allowed(path);
    // A route that takes this method and still found nothing (e.g. /docs/static/<missing file>) is a 404.
    if (allow.length > 0 && !allow.includes(req.method)) {
      reply.header('Allow', allow.join(', '));
      return sendProblem(reply, problems.methodNotAllowed(`${path} does not take ${req.method}; it takes ${allow.join(', ')}`, routes.wrongMethodMembers(path)), req.url);
    }
    // A '/' left unencoded in a path parameter (DocumentIds are full of them) made the path one
    // no route has: say which route it was meant for and how to write it.
    // A trailing '/' is said first: /v1/messages/{id}/ fits the '/'-in-a-parameter hint too, which
    // told the client to encode a '/' its id does not have.
    const withoutSlash = routes.withoutTrailingSlash(path, req.method);
    const meant = withoutSlash ? null : routes.withUnencodedSlash(path, req.method);
    const hint = withoutSlash ? `: the route is ${req.method} ${withoutSlash}, without the trailing "/"`
      : meant ? `: ${req.method} ${meant} takes each parameter as one path segment; percent-encode a "/" in its value as %2F` : '';
    return sendProblem(reply, problems.notFound('ROUTE_NOT_FOUND', `No route ${req.method} ${path}${hint}`), req.url);
  };
  // A request no route takes is answered for its route (405 with Allow, or 404) before its body
  // is parsed: the body of a wrong method is nobody's to judge (PATCH with broken JSON was a
  // 400 MALFORMED_JSON, a big one a 413), and Fastify refuses a QUERY (RFC 10008) without a
  // Content-Type before the not-found handler runs (a 400 where the path takes no QUERY at all).
  // Checked at the end of the header checks' preParsing hook above (one hook per request, not
  // two), which refuse a request whatever its route.
  app.setNotFoundHandler(noRoute);
});
