// POST /v1/messages and GET /v1/messages/{id}.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { eventRecords, messageEvent } from '../../platform/bus-events.js';
import { problems, ProblemError } from '../../platform/problem.js';
import { hasAnyRole } from '../../platform/bearer-auth.js';
import { SCHEMA_IDS, embeddable } from '../../platform/schema-catalogue.js';
import { routeSubmission, type SubmissionBody } from '../submission.js';
import type { GatewayContext } from '../gateway-context.js';
import { problemResponses, messageViewSchema } from '../openapi-shapes.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export async function messageRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Concurrent requests with the same Idempotency-Key wait for the first one instead of racing it.
  const inFlight = new Map<string, Promise<{ id: string; digest: string }>>();

  app.post<{ Body: SubmissionBody; Headers: { 'idempotency-key'?: string } }>('/v1/messages', {
    config: { roles: ['agency'] },
    schema: {
      tags: ['messages'],
      summary: 'Submit a message to another agency system',
      security: [{ bearer: [] }],
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } },
      body: embeddable(ctx.catalogue, SCHEMA_IDS.submission),
      response: {
        202: { type: 'object', properties: { id: { type: 'string' }, status: { const: 'accepted' } } },
        ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 503),
      },
    },
  }, async (req, reply) => {
    const caller = req.caller!;
    const key = req.headers['idempotency-key'];
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw problems.badRequest('Idempotency-Key must be 1-200 visible ASCII characters', [{ field: 'Idempotency-Key', message: 'invalid' }]);
    }
    let routed;
    try {
      routed = routeSubmission(req.body, caller, ctx.registry(), ctx.catalogue);
    } catch (err) {
      if (err instanceof ProblemError) ctx.audit.rejection('submit', { code: err.code, type: req.body.type, toMember: req.body.to.member }, caller);
      throw err;
    }
    const { envelope } = routed;
    const digest = createHash('sha256').update(JSON.stringify(req.body)).digest('base64url');

    const accept = async (): Promise<{ id: string; digest: string }> => {
      const accepted = messageEvent('accepted', envelope, 'gateway');
      const records = [
        {
          topic: ctx.topics.message(envelope.to.service),
          key: `${envelope.to.member}:${envelope.correlationId}`,
          value: JSON.stringify(envelope),
          headers: { 'lgsp-id': envelope.id, 'lgsp-type': envelope.type, ...(req.headers.traceparent ? { traceparent: String(req.headers.traceparent) } : {}) },
        },
        ...eventRecords(ctx.topics, accepted),
      ];
      try {
        await ctx.producer.send(records);
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'Kafka did not acknowledge the message');
        throw problems.unavailable('The bus could not durably accept the message; retry later (with the same Idempotency-Key)', 5);
      }
      // Read-your-writes: the status is visible before the event comes back from lgsp.events.
      ctx.store.applySoon(accepted);
      if (key !== undefined) ctx.store.rememberIdempotency(caller.clientId, key, { bodyDigest: digest, messageId: envelope.id });
      return { id: envelope.id, digest };
    };

    let result: { id: string; digest: string };
    if (key === undefined) {
      result = await accept();
    } else {
      const slot = `${caller.clientId}\u0000${key}`;
      const previous = ctx.store.idempotency(caller.clientId, key);
      const pending = inFlight.get(slot);
      if (previous) result = { id: previous.messageId, digest: previous.bodyDigest };
      else if (pending) result = await pending;
      else {
        const p = accept();
        inFlight.set(slot, p);
        try {
          result = await p;
        } finally {
          inFlight.delete(slot);
        }
      }
      if (result.digest !== digest) {
        throw problems.conflict('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body');
      }
    }
    return reply
      .code(202)
      .header('Location', `/v1/messages/${result.id}`)
      .send({ id: result.id, status: 'accepted' });
  });

  app.get<{ Params: { id: string } }>('/v1/messages/:id', {
    config: { auth: true },
    schema: {
      tags: ['messages'],
      summary: 'Status and timeline of a message (sender, receiver and operators only)',
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      response: { 200: messageViewSchema, ...problemResponses(401, 403, 404) },
    },
  }, async (req) => {
    const caller = req.caller!;
    const view = ctx.store.get(req.params.id);
    if (!view) throw problems.notFound('MESSAGE_NOT_FOUND', `No message ${req.params.id}`);
    const party = caller.member === view.from.member || caller.member === view.to.member;
    if (!party && !hasAnyRole(caller, ['operator', 'observer'])) {
      throw problems.forbidden('MESSAGE_FORBIDDEN', 'Only the sender, the receiver and operators may read this message');
    }
    return view;
  });
}
