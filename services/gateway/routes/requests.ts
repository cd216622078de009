// POST /v1/requests: request/reply through the bus (e.g. dossier.lookup). The request is
// routed, checked and made durable exactly like POST /v1/messages (same access rights, schemas,
// audit), then the call waits for the connector's signed reply (reply-waiter.ts) up to a
// timeout: 200 with the reply, 502 if the provider could not answer (the request was
// dead-lettered), 504 problem+json when nothing came in time. The request stays on the bus
// either way and can be followed at /v1/messages/{id}. Its body is schemas/request.schema.json
// (one recipient), not the POST /v1/messages body (which fans out to a list).
import type { FastifyInstance } from 'fastify';
import type { ValidateFunction } from 'ajv';
import { acceptedStep } from '../../platform/bus-events.js';
import { problems, ProblemError } from '../../platform/problem.js';
import { fieldErrors } from '../../platform/problem-handler.js';
import { SCHEMA_IDS, embeddable, type SchemaCatalogue } from '../../platform/schema-catalogue.js';
import type { ReplyValue } from '../../platform/reply-topic.js';
import { routeSubmission, withRegistryCaughtUp } from '../submission.js';
import { hooksFor, type SubmissionBody } from '../../platform/submission-hooks.js';
import type { GatewayContext } from '../gateway-context.js';
import { vouchedSubmission, vouchers } from '../rejection-audit.js';
import { alwaysSent, problemResponse, problemResponsesWithCodes } from '../../platform/openapi-shapes.js';
import { ReplyWaiter } from '../reply-waiter.js';
import { traceHeader } from '../../platform/trace-context.js';
import { withoutAddresses } from '../party-view.js';
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from '../../platform/request-wait.js';

const FAILURE_POLL_MS = 200;

/** Message types declared request/reply (a `replySchema` in their connector manifest), with the reply's validator. */
function requestReplyTypes(catalogue: SchemaCatalogue): Map<string, ValidateFunction> {
  const types = new Map<string, ValidateFunction>();
  for (const info of catalogue.messageTypes.values()) {
    if (info.replySchema) types.set(info.type, catalogue.validator(info.replySchema.$id as string));
  }
  return types;
}

/**
 * The body as the OpenAPI document shows it: the request schema with `type` narrowed to the
 * request/reply types on the bus. The route validates the wider pattern only, so that another
 * type is refused by the handler with a code that says what to do (NOT_A_REQUEST_TYPE: use
 * POST /v1/messages; UNKNOWN_MESSAGE_TYPE), not as a bare enum mismatch; either way it is a 400.
 */
function documentedBody(catalogue: SchemaCatalogue, requestTypes: string[]): Record<string, unknown> {
  const body = embeddable(catalogue, SCHEMA_IDS.request);
  if (requestTypes.length === 0) return body;
  const properties = body.properties as Record<string, Record<string, unknown>>;
  return { ...body, properties: { ...properties, type: { ...properties.type, enum: requestTypes } } };
}

/**
 * The `wait` preference a `Prefer` header asks for (RFC 7240 §4.3), undefined when it asks none or
 * a malformed one. Its value is delta-seconds (digits, optionally quoted) up to the end of the
 * preference: the leading digits of `wait=1e1` (10 s to whoever wrote it), `wait=5.5` or
 * `wait=0x10` were taken as 1, 5 and 0 s, where a malformed wait is documented as ignored.
 */
function requestedWait(prefer: string | undefined): number | undefined {
  const m = prefer ? /(?:^|[\s,;])wait\s*=\s*(?:"(\d+)"|(\d+))(?=\s*(?:[,;]|$))/i.exec(prefer) : null;
  return m ? Number(m[1] ?? m[2]) : undefined;
}

/** RFC 7240 `Prefer: wait=<seconds>`, bounded; the default when absent or malformed. */
export function preferredWaitSeconds(prefer: string | undefined): number {
  const wait = requestedWait(prefer);
  if (wait === undefined) return DEFAULT_WAIT_SECONDS;
  return Math.min(MAX_WAIT_SECONDS, Math.max(1, wait));
}

/**
 * A preference is the client's to ask and the server's to honour as it can (RFC 7240 §2): a wait
 * out of bounds is brought within them, a malformed one ignored, never refused. What was applied
 * is said in Preference-Applied (§3), so a client that asked for 100 s learns it waited 30 s.
 */
const PREFER_HEADER = {
  type: 'string',
  description:
    `RFC 7240. \`wait=<seconds>\`: how long to wait for the reply, in whole seconds, 1-${MAX_WAIT_SECONDS} (default ${DEFAULT_WAIT_SECONDS}). ` +
    `A wait outside those bounds is brought within them (0 waits 1 s, 100 waits ${MAX_WAIT_SECONDS} s) and the answer's \`Preference-Applied: wait=<seconds>\` says the wait that applied; ` +
    `a malformed wait (\`wait=soon\`) and other preferences are ignored (the default applies, no Preference-Applied), not refused.`,
} as const;

/** Sent beside every answer to a request that asked for a wait. */
const PREFERENCE_APPLIED = { type: 'string', description: 'RFC 7240 §3: `wait=<seconds>`, the wait that applied, when the request\'s Prefer asked for one' } as const;

/** Set on every answer once the request is on the bus, whatever came of it (200, 502, 504). */
const LOCATION = alwaysSent({ type: 'string', description: 'GET /v1/messages/{id} of the request' } as const);

type Outcome = { kind: 'reply'; reply: ReplyValue } | { kind: 'timeout' } | { kind: 'failed'; reason: string };

export async function requestRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const replyValidators = requestReplyTypes(ctx.catalogue);
  const documented = documentedBody(ctx.catalogue, [...replyValidators.keys()].sort());
  const replies = await ReplyWaiter.start(ctx);
  app.addHook('onClose', async () => replies.stop());

  app.post<{ Body: SubmissionBody; Headers: { prefer?: string } }>('/v1/requests', {
    config: {
      roles: ['agency'],
      swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, body: documented }, url }),
    },
    // A list of recipients is the POST /v1/messages habit: said before the schema is checked,
    // which would only say "to must be object".
    preValidation: async (req) => {
      const body = req.body as { type?: unknown; to?: unknown } | undefined;
      if (!Array.isArray(body?.to)) return;
      const refusal = problems.badRequest('A request has exactly one recipient', [{ field: 'to', message: 'must be one recipient, not a list' }]);
      // Before the schema: `type` may be any JSON value, and is audited only if the bus offers it.
      ctx.audit.rejection('request', { code: refusal.code, ...vouchedSubmission(body.type, [], vouchers(ctx)) }, req.caller!);
      throw refusal;
    },
    schema: {
      tags: ['requests'],
      summary: 'Send a request/reply message (e.g. dossier.lookup) and wait for its reply',
      description:
        'Routed and checked like POST /v1/messages (one recipient). Waits for the reply up to `Prefer: wait=<seconds>` ' +
        `(default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}); 504 REPLY_TIMEOUT when none comes in time. ` +
        'The request stays on the bus either way: follow it at /v1/messages/{id}.\n\n' +
        '**Idempotency-Key is not used here** (unlike POST /v1/messages): a request/reply message is a lookup, a read that is safe to ask again, ' +
        'so the header is ignored if sent — it is neither checked nor kept, and a retry with the same key is a new request with a new id ' +
        '(and its own reply), never the first request\'s answer replayed. To follow a request already sent, use its Location (GET /v1/messages/{id}).',
      security: [{ bearer: [] }],
      headers: { type: 'object', properties: { prefer: PREFER_HEADER } },
      body: embeddable(ctx.catalogue, SCHEMA_IDS.request),
      response: {
        200: {
          type: 'object',
          description: 'The provider\'s reply (`reply`), valid against the type\'s reply schema',
          headers: { Location: LOCATION, 'Preference-Applied': PREFERENCE_APPLIED },
          properties: {
            id: { type: 'string' },
            type: { type: 'string' },
            status: { const: 'replied' },
            from: { type: 'object', properties: { member: { type: 'string' }, service: { type: 'string' } } },
            repliedAt: { type: 'string' },
            reply: {
              type: 'object',
              additionalProperties: true,
              description: 'Valid against the type\'s reply schema: GET /v1/schemas/{type}.reply, and #/components/schemas/{type}.reply in this document',
            },
          },
        },
        ...problemResponsesWithCodes({
          400: ['BAD_REQUEST', 'MALFORMED_JSON', 'VALIDATION_FAILED', 'UNKNOWN_MESSAGE_TYPE', 'NOT_A_REQUEST_TYPE'],
          401: ['UNAUTHENTICATED', 'INVALID_TOKEN'],
          403: ['ROLE_REQUIRED', 'SERVICE_FORBIDDEN'],
          413: ['PAYLOAD_TOO_LARGE'],
          415: ['UNSUPPORTED_MEDIA_TYPE'],
          422: ['UNKNOWN_MEMBER', 'UNKNOWN_SERVICE', 'AMBIGUOUS_SERVICE'],
          429: ['RATE_LIMITED'],
          503: ['BUS_UNAVAILABLE', 'STATE_UNAVAILABLE', 'GATEWAY_BUSY'],
        }),
        // Answers about a request the bus accepted: they name it (messageId, Location) to follow.
        502: { ...problemResponse('REQUEST_FAILED or INVALID_REPLY; `messageId` names the request'), headers: { Location: LOCATION, 'Preference-Applied': PREFERENCE_APPLIED } },
        504: { ...problemResponse('REPLY_TIMEOUT: no reply within the wait; the request stays on the bus, `messageId` names it'), headers: { Location: LOCATION, 'Preference-Applied': PREFERENCE_APPLIED } },
      },
    },
  }, async (req, reply) => {
    const caller = req.caller!;
    const body = req.body;
    let envelope;
    try {
      // Before the payload is looked at: its schema errors would hide that the endpoint is the
      // wrong one. (A type the bus does not know is routeSubmission's to refuse.)
      if (ctx.catalogue.messageTypes.has(body.type) && !replyValidators.has(body.type)) {
        throw new ProblemError(400, 'NOT_A_REQUEST_TYPE', 'Not a request/reply message type', `${body.type} has no reply; send it with POST /v1/messages`, {
          errors: [{ field: 'type', message: 'not a request/reply message type' }],
        });
      }
      ({ envelope } = withRegistryCaughtUp(ctx.registry, ctx.latestRegistry, (registry) => routeSubmission(body, caller, registry, ctx.catalogue, hooksFor(ctx.submissionHooks, body.type))).result);
    } catch (err) {
      if (err instanceof ProblemError) ctx.audit.rejection('request', { code: err.code, ...vouchedSubmission(body.type, [body.to.member], vouchers(ctx)) }, caller);
      throw err;
    }

    const waitSeconds = preferredWaitSeconds(req.headers.prefer);
    const pending = replies.expect(envelope.id);
    const accepted = acceptedStep(envelope, { requestReply: true, waitSeconds });
    // As for POST /v1/messages: the message record is the acceptance on the bus, and the status row
    // ('accepted', first entry of the timeline) is written first (a PostgreSQL outage refuses the request
    // before Kafka sees it), removed again if Kafka refuses.
    try {
      await ctx.acceptedRows.write([accepted]);
    } catch (err) {
      pending.cancel();
      throw err;
    }
    try {
      await ctx.producer.send([
        {
          topic: ctx.topics.message(envelope.to.service),
          key: `${envelope.to.member}:${envelope.correlationId}`,
          value: ctx.payloads.sealedEnvelope(envelope),
          headers: { 'lgsp-id': envelope.id, 'lgsp-type': envelope.type, ...traceHeader(req.headers.traceparent) },
        },
      ]);
    } catch (err) {
      pending.cancel();
      await ctx.store.forget([envelope.id]).catch(() => undefined);
      req.log.warn({ err: (err as Error).message }, 'Kafka did not acknowledge the request');
      throw problems.unavailable('Kafka did not confirm the request in time; retry later (a lookup asked twice is answered twice, harmlessly)', 5);
    }
    reply.header('Location', `/v1/messages/${envelope.id}`);
    if (requestedWait(req.headers.prefer) !== undefined) reply.header('Preference-Applied', `wait=${waitSeconds}`);

    const timers: NodeJS.Timeout[] = [];
    const outcome = await new Promise<Outcome>((resolve) => {
      // A wait that fails (the gateway shutting down) ends like a timeout, by the timer below.
      pending.promise.then((r) => resolve({ kind: 'reply', reply: r }), () => undefined);
      timers.push(setTimeout(() => resolve({ kind: 'timeout' }), waitSeconds * 1000));
      // A request the provider cannot answer is dead-lettered by the runtime: end the wait early.
      timers.push(
        setInterval(() => {
          void ctx.store.get(envelope.id).then(
            (view) => {
              if (view?.status !== 'dead_lettered') return;
              const dead = [...view.events].reverse().find((e) => e.event === 'dead_lettered');
              resolve({ kind: 'failed', reason: String(dead?.detail?.reason ?? 'dead-lettered') });
            },
            // PostgreSQL briefly unreachable: the next poll (or the timeout) decides.
            () => undefined,
          );
        }, FAILURE_POLL_MS),
      );
    });
    for (const t of timers) clearTimeout(t);
    pending.cancel();

    if (outcome.kind === 'timeout') {
      throw new ProblemError(504, 'REPLY_TIMEOUT', 'No reply in time', `No reply to ${body.type} ${envelope.id} within ${waitSeconds} s; the request stays on the bus (its status at /v1/messages/${envelope.id}), but a reply that comes later is not kept: ask again for the answer`, {
        messageId: envelope.id,
      });
    }
    if (outcome.kind === 'failed') {
      // The reason is the runner's, written for operators: without the addresses it names (party-view.ts).
      throw new ProblemError(502, 'REQUEST_FAILED', 'The provider could not answer', `${body.type} ${envelope.id} was dead-lettered: ${withoutAddresses(outcome.reason)}`, { messageId: envelope.id });
    }
    const answer = outcome.reply;
    const validate = replyValidators.get(body.type)!;
    if (answer.to.system !== caller.clientId || !validate(answer.payload)) {
      const errors = fieldErrors(validate.errors ?? [], 'reply', answer.payload);
      req.log.error({ messageId: envelope.id, errors }, 'a connector replied with an invalid reply');
      throw new ProblemError(502, 'INVALID_REPLY', 'The provider\'s reply is invalid', `The reply to ${envelope.id} does not match the ${body.type} reply schema`, { messageId: envelope.id });
    }
    return reply.code(200).send({
      id: envelope.id,
      type: body.type,
      status: 'replied',
      from: { member: answer.from.member, service: answer.from.service },
      repliedAt: answer.at,
      reply: answer.payload,
    });
  });
}
