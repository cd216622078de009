// POST /v1/messages and GET /v1/messages/{id}.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { canonicalJson } from '../../platform/canonical-json.js';
import { normalizeNfc } from '../../platform/envelope.js';
import { IDEMPOTENCY_TTL_HOURS } from '../message-store.js';
import { idempotentMessageId } from '../idempotent-message-id.js';
import { acceptedStep, eventRecords, type BusEvent } from '../../platform/bus-events.js';
import { problems, ProblemError } from '../../platform/problem.js';
import { validationProblem } from '../../platform/problem-handler.js';
import { canonicalId } from '../../platform/uuid7.js';
import { hasAnyRole } from '../../platform/bearer-auth.js';
import { SCHEMA_IDS, embeddable } from '../../platform/schema-catalogue.js';
import { authorizeRecipients, routeRecipients, recipientsOf } from '../fan-out.js';
import { withRegistryCaughtUp } from '../submission.js';
import { admitAll, hooksFor, restateRefusal, type FanOutSubmission } from '../../platform/submission-hooks.js';
import type { GatewayContext } from '../gateway-context.js';
import { vouchedSubmission, vouchers } from '../rejection-audit.js';
import { alwaysSent, problemResponsesWithCodes, messageViewSchema } from '../../platform/openapi-shapes.js';
import { produceTransactionIdleMs } from '../../platform/database.js';
import { traceHeader } from '../../platform/trace-context.js';
import { partyView } from '../party-view.js';

/**
 * An Idempotency-Key: 1-200 visible ASCII characters. One rule for the handler's check and for the
 * OpenAPI document, whose parameter carries it as a pattern: a client generated from the document
 * (or Swagger UI) refuses a bad key before sending it, as the gateway would.
 */
const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,200}$';
const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);
const INVALID_IDEMPOTENCY_KEY = 'Idempotency-Key must be one value of 1-200 visible ASCII characters (no spaces, the header sent once)';
const INVALID_IDEMPOTENCY_KEY_FIELD = { field: 'Idempotency-Key', message: 'invalid' };

function bodyDigest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * The fingerprints earlier releases kept for this body, still in gateway_idempotency for up to
 * IDEMPOTENCY_TTL_HOURS after an upgrade: a client retrying across the upgrade must get its
 * message's id, not 409 IDEMPOTENCY_KEY_REUSED. Releases before 2026-12-02 hashed the body as
 * received; those before 2026-12-04 hashed its canonical JSON without NFC, so a body written
 * decomposed (NFD, as many Windows systems write Vietnamese) had another fingerprint than the one
 * taken now. Both comparisons can go once no gateway of those releases has run for a day.
 */
function earlierFingerprints(body: unknown): string[] {
  return [bodyDigest(canonicalJson(body)), bodyDigest(JSON.stringify(body))];
}

/**
 * The same Idempotency-Key with another body. Names the message the key already stands for (the
 * caller's own), so a client that reused a key by mistake can look that one up, and the header
 * as the field at fault.
 */
function idempotencyKeyReused(earlier: string[]): ProblemError {
  const named = earlier.length === 1 ? `message ${earlier[0]}` : `messages ${earlier.join(', ')}`;
  return new ProblemError(409, 'IDEMPOTENCY_KEY_REUSED', 'Conflict', `This Idempotency-Key was already used, for ${named}, with a different request body: a new request needs a new key`, {
    errors: [{ field: 'Idempotency-Key', message: 'already used with a different request body' }],
  });
}

type RouteSchema = { headers?: { properties?: Record<string, Record<string, unknown>> } } & Record<string, unknown>;

/** The route's schema as documented: the Idempotency-Key header with its pattern and length. */
function withIdempotencyKeyRule(schema: RouteSchema): RouteSchema {
  const headers = schema.headers ?? {};
  const key = headers.properties?.['idempotency-key'];
  return { ...schema, headers: { ...headers, properties: { ...headers.properties, 'idempotency-key': { ...key, minLength: 1, maxLength: 200, pattern: IDEMPOTENCY_KEY_PATTERN } } } };
}

export async function messageRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // The transaction around a produce waits for Kafka (up to the produce timeout) between its
  // statements; past that and a statement's worth more, this gateway is hung (frozen, paused,
  // cut off from PostgreSQL's view), and the server ends its session: the Idempotency-Key row it
  // holds is freed for the client's retry on another gateway instead of being held, and that
  // retry made to wait, for as long as this gateway hangs.
  const heldIdleMs = produceTransactionIdleMs(ctx.config.produceTimeoutMs);
  app.post<{ Body: FanOutSubmission; Headers: { 'idempotency-key'?: string } }>('/v1/messages', {
    config: {
      roles: ['agency'],
      tooLargeHint: 'send a document\'s files as attachments, by reference: upload each to POST /v1/attachments, then name it by its sha256 in the payload (an edXML package posted as XML may carry them inline, up to its own larger limit)',
      // The key's rule in the document: not in the route's schema, where ajv would refuse a bad
      // key as a generic VALIDATION_FAILED on `headers.idempotency-key` before the handler says
      // which header is at fault and why.
      swaggerTransform: ({ schema, url }) => ({ schema: withIdempotencyKeyRule(schema as RouteSchema), url }),
    },
    schema: {
      tags: ['messages'],
      summary: 'Submit a message to another agency system',
      security: [{ bearer: [] }],
      headers: {
        type: 'object',
        properties: {
          // Checked in the handler (IDEMPOTENCY_KEY), which names the header in its refusal; the
          // pattern is the document's (swaggerTransform above), the same rule.
          'idempotency-key': { type: 'string', description: `Optional; 1-200 visible ASCII characters, sent once (another key is refused with 400, \`errors\` naming Idempotency-Key, in the same refusal as the body's schema faults if it has any). A retry with the same key and the same body (same JSON, any key order) answers with the same message id and is never delivered twice; the same key with another body is 409 IDEMPOTENCY_KEY_REUSED. Keys are kept ${IDEMPOTENCY_TTL_HOURS} hours per client.` },
        },
      },
      body: embeddable(ctx.catalogue, SCHEMA_IDS.submission),
      response: {
        202: {
          description: 'Accepted: the message is on the bus and will be delivered or dead-lettered with a reason',
          // Sent with every 202, a first answer or an Idempotency-Key's repeat alike.
          headers: { Location: alwaysSent({ type: 'string', description: 'GET /v1/messages/{id} of the (first) message' }) },
          type: 'object',
          properties: {
            id: { type: 'string' },
            status: { const: 'accepted' },
            recipients: {
              type: 'array',
              description: 'When `to` is a list: one message per recipient (`id` is the first)',
              items: { type: 'object', properties: { member: { type: 'string' }, service: { type: 'string' }, id: { type: 'string' } } },
            },
          },
        },
        ...problemResponsesWithCodes({
          400: ['BAD_REQUEST', 'MALFORMED_JSON', 'VALIDATION_FAILED', 'UNKNOWN_MESSAGE_TYPE', 'DUPLICATE_RECIPIENT', 'REQUEST_REPLY_TYPE', 'EDXML_INVALID', 'EDXML_NOT_REPRESENTABLE', 'XML_MALFORMED', 'XML_FORBIDDEN_CONSTRUCT', 'XML_TOO_DEEP', 'XML_TOO_MANY_ELEMENTS', 'XML_TOO_MANY_ATTRIBUTES', 'XML_TEXT_TOO_LARGE', 'XML_LIMITS', 'ATTACHMENT_NOT_BASE64', 'DUPLICATE_ATTACHMENT'],
          401: ['UNAUTHENTICATED', 'INVALID_TOKEN'],
          403: ['ROLE_REQUIRED', 'SERVICE_FORBIDDEN', 'SENDER_MISMATCH'],
          409: ['IDEMPOTENCY_KEY_REUSED', 'DOCUMENT_ALREADY_SENT', 'DOCUMENT_ID_REUSED', 'DOCUMENT_BUSY', 'ILLEGAL_STATUS_TRANSITION'],
          413: ['PAYLOAD_TOO_LARGE', 'XML_TOO_LARGE', 'ATTACHMENTS_TOO_LARGE'],
          415: ['UNSUPPORTED_MEDIA_TYPE', 'XML_UNSUPPORTED_ENCODING'],
          422: ['UNKNOWN_MEMBER', 'UNKNOWN_SERVICE', 'AMBIGUOUS_SERVICE', 'ONE_RECIPIENT_ONLY', 'DOSSIER_RULES_VIOLATED', 'SIGNATURE_POLICY', 'DOCUMENT_ID_INVALID', 'DOCUMENT_NOT_FOUND', 'ORIGINAL_DOCUMENT_NOT_FOUND', 'ORIGINAL_NOT_SENT_TO_RECIPIENT', 'REPLACEMENT_NEEDS_NEW_ID', 'RECIPIENTS_MISMATCH', 'STATUS_RECIPIENT_MISMATCH', 'ATTACHMENT_NOT_FOUND', 'ATTACHMENT_DIGEST_MISMATCH', 'ATTACHMENT_SIZE_MISMATCH'],
          429: ['RATE_LIMITED'],
          503: ['BUS_UNAVAILABLE', 'STATE_UNAVAILABLE', 'GATEWAY_BUSY'],
        }),
      },
    },
    // The key is checked before the body's schema, and a body the schema refuses too is refused
    // with both faults at once: a client that sent both was told of the body alone, then refused
    // again for the key once the body was fixed.
    preValidation: async (req) => {
      const key = req.headers['idempotency-key'];
      if (key === undefined || IDEMPOTENCY_KEY.test(key)) return;
      const validate = req.getValidationFunction('body');
      if (validate && !validate(req.body) && validate.errors?.length) {
        const body = validationProblem(validate.errors, 'body');
        throw problems.validation(`${INVALID_IDEMPOTENCY_KEY}; ${body.detail}`, [INVALID_IDEMPOTENCY_KEY_FIELD, ...(body.extras.errors ?? [])]);
      }
      throw problems.badRequest(INVALID_IDEMPOTENCY_KEY, [INVALID_IDEMPOTENCY_KEY_FIELD]);
    },
  }, async (req, reply) => {
    const caller = req.caller!;
    // Checked before validation (preValidation above).
    const key = req.headers['idempotency-key'];
    const audited = (err: unknown) => {
      if (err instanceof ProblemError) ctx.audit.rejection('submit', { code: err.code, ...vouchedSubmission(req.body.type, recipientsOf(req.body).map((r) => r.member), vouchers(ctx)) }, caller);
      return err;
    };
    const hooks = hooksFor(ctx.submissionHooks, req.body.type);
    const sub = { caller, request: req };
    // Only an Idempotency-Key needs the body's fingerprint; skip the hash otherwise. Canonical
    // JSON, so a retry that serialises the same body with its keys in another order is the same
    // request, not a 409; and NFC, as the bus keeps it, so a retry from a system that writes
    // Vietnamese decomposed (NFD) is the same request too. With a key, the message ids follow
    // from key and body (idempotent-message-id.ts): a retry after a 503 names the same messages.
    const digest = key === undefined ? '' : bodyDigest(canonicalJson(normalizeNfc(req.body)));
    const idFor = key === undefined ? undefined : (i: number) => idempotentMessageId(caller.clientId, key, digest, i);
    let envelopes;
    try {
      if (ctx.catalogue.messageTypes.get(req.body.type)?.requestReply) {
        throw new ProblemError(400, 'REQUEST_REPLY_TYPE', 'Request/reply message type', `${req.body.type} is answered with a reply: send it with POST /v1/requests, which waits for the reply (here the reply would reach nobody)`, {
          errors: [{ field: 'type', message: 'a request/reply message type' }],
        });
      }
      // One registry for the whole request, even when it is replaced meanwhile (live-registry.ts).
      const { registry } = withRegistryCaughtUp(ctx.registry, ctx.latestRegistry, (r) => authorizeRecipients(req.body, caller, r, ctx.catalogue));
      let body = req.body;
      for (const hook of hooks) if (hook.prepare) body = await hook.prepare(body, sub);
      envelopes = routeRecipients(body, caller, registry, ctx.catalogue, hooks, idFor).map((r) => r.envelope);
    } catch (err) {
      throw audited(restateRefusal(hooks, err, req.body.type, sub));
    }
    const ids = envelopes.map((e) => e.id);
    // The message record itself is the acceptance on the bus; the 'accepted' event only becomes
    // the first row of the status timeline in PostgreSQL (read-your-write through any gateway).
    const accepted = envelopes.map((envelope) => acceptedStep(envelope));
    const trace = traceHeader(req.headers.traceparent);
    const records = (extraEvents: BusEvent[]) => [
      ...envelopes.map((envelope) => ({
        topic: ctx.topics.message(envelope.to.service),
        key: `${envelope.to.member}:${envelope.correlationId}`,
        value: ctx.payloads.sealedEnvelope(envelope),
        headers: { 'lgsp-id': envelope.id, 'lgsp-type': envelope.type, ...trace },
      })),
      ...extraEvents.flatMap((ev) => eventRecords(ctx.topics, ev)),
    ];
    const produce = async (extraEvents: BusEvent[]) => {
      try {
        await ctx.producer.send(records(extraEvents));
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'Kafka did not acknowledge the message');
        // A timed-out produce may still be appended: only with an Idempotency-Key is a retry safe,
        // and then the answer names the message the retry will name too. Without one it names
        // the message all the same: had Kafka taken it after all, it is delivered under that id,
        // and the sender can look it up before sending again.
        const detail = key === undefined
          ? `Kafka did not confirm the message in time: it may not have been accepted, or it may still be delivered, as message ${ids[0]} (GET /v1/messages/${ids[0]} shows it once the bus has it). Retrying without an Idempotency-Key may send it twice; send one`
          : `Kafka did not confirm the message in time; retry with the same Idempotency-Key and body: the retry names the same message (${ids[0]}), so it is never delivered twice`;
        throw new ProblemError(503, 'BUS_UNAVAILABLE', 'Service unavailable', detail, { retryAfterSeconds: 5, messageId: ids[0] });
      }
    };

    let resultIds = ids;
    if (key === undefined && hooks.length === 0) {
      // The plain path, the busiest one: the status rows are written first (batched with other
      // requests' rows), so a PostgreSQL outage refuses the message before Kafka sees it, and
      // removed again if Kafka refuses it.
      await ctx.acceptedRows.write(accepted);
      try {
        await produce([]);
      } catch (err) {
        await ctx.store.forget(ids).catch((e: Error) => req.log.error({ err: e.message, ids }, 'could not remove the status rows of a refused message'));
        throw err;
      }
    } else {
      // One transaction around the produce: the Idempotency-Key row, the hooks' state changes
      // (documents) and the status rows commit only if Kafka acknowledged, and a concurrent
      // request with the same key — on any gateway — waits for this one to end.
      resultIds = await ctx.heldTransactions.run(() => ctx.db.transaction(async (tx) => {
        if (key !== undefined) {
          const previous = await ctx.store.reserveIdempotency(tx, caller.clientId, key, { bodyDigest: digest, messageId: ids.join(',') });
          if (previous) {
            if (previous.bodyDigest !== digest && !earlierFingerprints(req.body).includes(previous.bodyDigest)) throw idempotencyKeyReused(previous.messageId.split(','));
            return previous.messageId.split(',');
          }
        }
        let admission;
        try {
          admission = await admitAll(hooks, envelopes, sub, tx);
        } catch (err) {
          throw audited(restateRefusal(hooks, err, req.body.type, sub));
        }
        const extra = admission.events ?? [];
        await ctx.store.record([...accepted, ...extra], tx);
        await produce(extra);
        return ids;
      }, { idleTimeoutMs: heldIdleMs }));
    }
    const [id] = resultIds;
    let recipients;
    if (Array.isArray(req.body.to)) {
      const to = await ctx.store.recipients(resultIds);
      recipients = resultIds.map((messageId) => ({ member: to.get(messageId)?.member, service: to.get(messageId)?.service, id: messageId }));
    }
    return reply
      .code(202)
      .header('Location', `/v1/messages/${id}`)
      .send({ id, status: 'accepted', ...(recipients ? { recipients } : {}) });
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id', {
    config: { auth: true, conditional: true },
    schema: {
      tags: ['messages'],
      summary: 'Status and timeline of a message (sender, receiver and operators only)',
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      response: { 200: { ...messageViewSchema, description: 'The message\'s status and its timeline' }, ...problemResponsesWithCodes({ 401: ['UNAUTHENTICATED', 'INVALID_TOKEN'], 404: ['MESSAGE_NOT_FOUND'], 503: ['STATE_UNAVAILABLE'] }) },
    },
  }, async (req) => {
    const caller = req.caller!;
    const view = await ctx.store.get(canonicalId(req.params.id));
    const party = !!view && (caller.member === view.from.member || caller.member === view.to.member);
    const overseer = hasAnyRole(caller, ['operator', 'observer']);
    // A message the caller may not see is answered like one that does not exist (as documents,
    // inbox items and attachments are): a 403 would tell a stranger the id went through the bus.
    if (!view || !(party || overseer)) {
      throw problems.notFound('MESSAGE_NOT_FOUND', `No message ${req.params.id} that you may see (only its sender, its receiver and operators may)`);
    }
    // Failure reasons name the addresses the bus delivers to: operators' to read (party-view.ts).
    return overseer ? view : partyView(view);
  });
}
