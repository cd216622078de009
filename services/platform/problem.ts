// RFC 9457 problem details with a stable machine `code`. Every error a service returns goes
// through ProblemError so callers can branch on `code` instead of parsing `detail`; the codes
// and their meanings are registered in error-codes.ts.
import type { ErrorCode } from './error-codes.js';
import { sliceWhole } from './whole-slice.js';

export const PROBLEM_BASE = 'https://lgsp.example.gov.vn/problems/';

export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/**
 * Field errors a problem lists at most, and the longest detail. A 1 MB body of 60,000 unknown
 * properties was answered with every one of them, in `errors` and again in `detail`: a 6.6 MB
 * answer. What a caller fixes first is at the start; the detail says how many there were.
 */
export const MAX_LISTED_ERRORS = 100;
export const MAX_DETAIL_CHARS = 4000;

/**
 * Characters a problem never shows as they are, written `\u202E` instead: controls (a CR or LF
 * from an id in the path split a log line or a terminal's view) and bidirectional formatting
 * (U+202E showed "No message ‮cba" as "No message abc"). Details echo ids and names as the
 * caller sent them; the bus's own words hold none of these.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const UNSHOWN = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

function shown(text: string): string {
  return text.replace(UNSHOWN, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

export class ProblemError extends Error {
  readonly detail: string;
  readonly extras: { errors?: FieldError[]; retryAfterSeconds?: number; [k: string]: unknown };

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly title: string,
    detail: string,
    extras: { errors?: FieldError[]; retryAfterSeconds?: number; [k: string]: unknown } = {},
  ) {
    const errors = extras.errors;
    // Cut before escaping: an escape is never cut in half (the limit may be passed by its length).
    const tooMany = errors !== undefined && errors.length > MAX_LISTED_ERRORS;
    const note = tooMany ? ` (${errors.length} errors in all; the first ${MAX_LISTED_ERRORS} are listed)` : '';
    const kept = detail.length + note.length > MAX_DETAIL_CHARS ? `${sliceWhole(detail, MAX_DETAIL_CHARS - note.length - 1)}…` : detail;
    super(shown(kept) + note);
    this.name = 'ProblemError';
    this.detail = shown(kept) + note;
    const listed = tooMany ? errors.slice(0, MAX_LISTED_ERRORS) : errors;
    this.extras = listed === undefined ? extras : { ...extras, errors: listed.map((e) => ({ ...e, field: shown(e.field), message: shown(e.message) })) };
  }

  toBody(instance?: string): ProblemBody {
    const { retryAfterSeconds: _ignored, ...rest } = this.extras;
    return {
      type: PROBLEM_BASE + this.code.toLowerCase().replace(/_/g, '-'),
      title: this.title,
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...rest,
    };
  }
}

/** A part of a request whose fields a VALIDATION_FAILED names as `<part>.<name>` (the body's are named bare). */
export type RequestPartName = 'querystring' | 'params' | 'headers' | 'body';

const PART_LEADS: Record<RequestPartName, string> = {
  querystring: 'Invalid query string',
  params: 'Invalid path parameters',
  headers: 'Invalid headers',
  body: 'Invalid body',
};

/**
 * The detail of a VALIDATION_FAILED for field errors of one part of the request (`part`), or of
 * several (the part read from each field's prefix): each field named once, under its part, with
 * what its value must be. `errors` keeps `querystring.from`; the detail reads "Invalid query
 * string: from must …" (it read "Invalid querystring: querystring.from must …"). A body's fields
 * are bare (`payload.subject`) unless `prefixed` says they too start with `body.`.
 */
export function fieldErrorsDetail(errors: FieldError[], part?: RequestPartName, prefixed = part !== 'body'): string {
  const partOf = (field: string): RequestPartName | undefined =>
    part ?? (['querystring', 'params', 'headers'] as const).find((p) => field.startsWith(`${p}.`));
  const groups = new Map<RequestPartName | undefined, string[]>();
  for (const e of errors) {
    const at = partOf(e.field);
    const name = at && (at !== 'body' || prefixed) && e.field.startsWith(`${at}.`) ? e.field.slice(at.length + 1) : e.field;
    groups.set(at, [...(groups.get(at) ?? []), name === '' ? e.message : `${name} ${e.message}`]);
  }
  return [...groups].map(([at, said]) => `${at ? PART_LEADS[at] : 'Invalid request'}: ${said.join('; ')}`).join('; ');
}

/** @fastify/rate-limit's errorResponseBuilder on every service: a 429 with the window really left. */
export function rateLimitProblem(_req: unknown, context: { ttl: number }): ProblemError {
  return problems.rateLimited(Math.max(1, Math.ceil(context.ttl / 1000)));
}

/** Named constructors for the problems the bus returns, so codes and titles stay consistent. */
export const problems = {
  badRequest: (detail: string, errors?: FieldError[]) =>
    new ProblemError(400, 'BAD_REQUEST', 'Bad request', detail, errors ? { errors } : {}),
  malformedJson: (detail: string) => new ProblemError(400, 'MALFORMED_JSON', 'Malformed JSON body', detail),
  validation: (detail: string, errors: FieldError[]) =>
    new ProblemError(400, 'VALIDATION_FAILED', 'The request does not match the schema', detail, { errors }),
  unauthenticated: (detail: string) => new ProblemError(401, 'UNAUTHENTICATED', 'Authentication required', detail),
  invalidToken: (detail: string) => new ProblemError(401, 'INVALID_TOKEN', 'Invalid access token', detail),
  forbidden: (code: ErrorCode, detail: string) => new ProblemError(403, code, 'Forbidden', detail),
  notFound: (code: ErrorCode, detail: string) => new ProblemError(404, code, 'Not found', detail),
  /** `members`: extensions the path's route adds (route config wrongMethodMembers, problem-handler.ts). */
  methodNotAllowed: (detail: string, members: Record<string, string> = {}) => new ProblemError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', detail, members),
  conflict: (code: ErrorCode, detail: string) => new ProblemError(409, code, 'Conflict', detail),
  tooLarge: (limit: number) =>
    new ProblemError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', `The body exceeds the limit of ${limit} bytes`),
  unsupportedMediaType: (detail: string) =>
    new ProblemError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', detail),
  rateLimited: (retryAfterSeconds: number) =>
    new ProblemError(429, 'RATE_LIMITED', 'Too many requests', `Rate limit exceeded; retry after ${retryAfterSeconds} s`, { retryAfterSeconds }),
  unavailable: (detail: string, retryAfterSeconds = 5) =>
    new ProblemError(503, 'BUS_UNAVAILABLE', 'Service unavailable', detail, { retryAfterSeconds }),
  gatewayBusy: (yoursAlone = false, answer = false) =>
    answer
      ? new ProblemError(503, 'GATEWAY_BUSY', 'Gateway busy', `This gateway holds as many request bodies and large answers (downloads not yet read by their clients) as it may at once${yoursAlone ? ' for this client (half of its budget): finish or close your other downloads' : ''}; nothing was sent; retry shortly`, { retryAfterSeconds: 1 })
      : new ProblemError(503, 'GATEWAY_BUSY', 'Gateway busy', `This gateway holds as many request bodies as it may at once${yoursAlone ? ' from this client (half of its budget)' : ''}; nothing was accepted; retry shortly (with the same Idempotency-Key)`, { retryAfterSeconds: 1 }),
  /** Every submission slot that holds a transaction open while Kafka acknowledges was taken for longer than a request may wait for one. */
  submissionsBusy: (waitedMs: number) =>
    new ProblemError(503, 'GATEWAY_BUSY', 'Gateway busy', `This gateway's submissions that wait on Kafka and PostgreSQL (an Idempotency-Key, a document, a dossier) are all in progress and none ended within ${waitedMs / 1000} s: Kafka or PostgreSQL is slow to answer. Nothing was accepted; retry after Retry-After with the same Idempotency-Key`, { retryAfterSeconds: 5 }),
  /** A request that reached a service while it stops (problem-handler.ts). */
  shuttingDown: () =>
    new ProblemError(503, 'SHUTTING_DOWN', 'Service unavailable', 'This instance of the service is stopping and takes no new request; nothing was done; retry: the connection closes after this answer, and the next one reaches a running instance', { retryAfterSeconds: 1 }),
  /** `reading`: a GET or HEAD, which had nothing to accept (the answer says it could not be read). */
  databaseUnavailable: (retryAfterSeconds = 5, reading = false) =>
    new ProblemError(
      503,
      'STATE_UNAVAILABLE',
      'Service unavailable',
      `The bus's shared state store (PostgreSQL) is unreachable or did not answer in time; ${reading ? 'what you asked for cannot be read now' : 'nothing was accepted'}; retry later`,
      { retryAfterSeconds },
    ),
};
