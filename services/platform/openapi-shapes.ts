// Response shapes shared by route schemas, so the OpenAPI document describes errors and views
// the same way everywhere.
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { ALWAYS_SENT } from './openapi-response-headers.js';

export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details (application/problem+json)',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string', description: 'Where in the request: members after dots, array elements by index in brackets (`payload.attachments[0].name`, `to[1].member`); `(body)` for the body itself. Document rules on edXML name the element path instead (`edXMLHeader/MessageHeader/Code`).', example: 'to[1].member' }, message: { type: 'string' } } } },
  },
  additionalProperties: true,
};

/** Error answers as they are sent: `application/problem+json` (RFC 9457), not plain JSON. */
/** One problem+json answer for the OpenAPI document. */
export function problemResponse(description: string): { description: string; content: Record<string, unknown> } {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } };
}

/**
 * Problem answers described by the `code`s each status carries on this operation (the only way a
 * route declares one: test/openapi-refusal-codes.test.ts holds every problem answer to it). A bare
 * "problem+json (422)" left a client generated from the document (and a vendor reading /docs)
 * to guess that the 422 of POST /v1/messages is a dossier rule, an unknown member or an edXML
 * rule: the codes are what the client branches on. Each code must be one the registry gives
 * that status (error-codes.ts); a wrong pairing throws when the route is declared.
 */
export function problemResponsesWithCodes(codes: Partial<Record<number, readonly ErrorCode[]>>): Record<number, unknown> {
  return Object.fromEntries(
    Object.entries(codes).map(([status, list]) => {
      for (const code of list ?? []) {
        if (!(ERROR_CODES[code].status as readonly number[]).includes(Number(status))) throw new Error(`${code} is not a ${status} in services/platform/error-codes.ts`);
      }
      return [status, problemResponse(`problem+json (${status}); \`code\`: ${(list ?? []).join(', ')} (README "Error codes")`)];
    }),
  );
}

/**
 * A success answer described for the OpenAPI document: each media type with an empty schema,
 * which Fastify serialises as JSON.stringify would, so the route's answer is sent exactly as
 * before (a schema with properties would drop or coerce fields nobody listed). The precise
 * schema a client generator reads is set on the document only (openapi-answers.ts). `headers`
 * names the response headers a client reads beside the body (documentation only: Fastify sends
 * what the handler sets).
 */
export function okResponse(description: string, mediaTypes: readonly string[] = ['application/json'], headers?: Record<string, { type: 'string'; description: string }>): Record<number, unknown> {
  return { 200: { description, ...(headers ? { headers } : {}), content: Object.fromEntries(mediaTypes.map((m) => [m, { schema: {} }])) } };
}

/**
 * A response header the route sends on every answer of that status, for the OpenAPI document:
 * said `required: true` there (openapi-response-headers.ts), so a generated client reads it as a
 * header it can rely on, not as an optional one. Documentation only: Fastify sends what the
 * handler sets.
 */
export function alwaysSent<H extends { type: 'string'; description: string }>(header: H): H {
  return { ...header, [ALWAYS_SENT]: true };
}

export const messageViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    from: { type: 'object', properties: { member: { type: 'string' }, system: { type: 'string' } } },
    to: { type: 'object', properties: { member: { type: 'string' }, service: { type: 'string' } } },
    correlationId: { type: 'string' },
    // `failed` reads as final to whoever meets it first; it is not, and a sender that sends the
    // message again for it makes a duplicate.
    status: {
      enum: ['accepted', 'delivered', 'failed', 'dead_lettered'],
      description:
        '`accepted`: on the bus, not delivered yet (to a pull system: deposited, until it acknowledges the item); `delivered`: the receiver took it (final); ' +
        '`failed`: the last attempt failed and the bus is retrying it (not final: the `delivery_failed` event gives the reason and `nextAttemptAt`; do not send it again); ' +
        '`dead_lettered`: given up, the reason in its `dead_lettered` event (final until an operator replays it)',
    },
    events: {
      type: 'array',
      description:
        'The timeline: `accepted` (when the gateway took the message), then one outcome per delivery attempt — `delivered`, `delivery_failed` ' +
        '(with `nextAttemptAt`), `dead_lettered`, `deposited` (pull) — each naming the `connector` and `attempt` in `detail`, plus business `status` events',
      items: { type: 'object', properties: { event: { type: 'string' }, at: { type: 'string' }, detail: { type: 'object', additionalProperties: true } } },
    },
  },
};
