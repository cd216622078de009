// The dead-letter browser: search, one-click replay, bulk replay by filter. Each replay is
// audited twice over: a `replayed` event on the message's timeline and an `operator_action`.
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../platform/problem.js';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES, WRITE_ROLES } from '../console-auth.js';
import type { DeadLetterQuery } from '../dead-letter-store.js';
import { TIME_BOUND, instant } from './query-schemas.js';

type FilterInput = Omit<DeadLetterQuery, 'limit' | 'before'>;

const FILTER_PROPERTIES = {
  connector: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,62}$' },
  member: { type: 'string', minLength: 1, maxLength: 100 },
  type: { type: 'string', minLength: 1, maxLength: 200 },
  messageId: { type: 'string', minLength: 1, maxLength: 200 },
  reason: { type: 'string', minLength: 1, maxLength: 200, description: 'Text the reason contains (case-insensitive)' },
  from: TIME_BOUND,
  to: TIME_BOUND,
};

export const MAX_BULK_REPLAY = 500;

function toQuery(f: FilterInput): DeadLetterQuery {
  return { ...f, from: instant(f.from, 'from'), to: instant(f.to, 'to') };
}

export async function deadLetterRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get<{ Querystring: FilterInput & { limit?: number; before?: number } }>('/v1/console/dead-letters', {
    config: { roles: READ_ROLES },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...FILTER_PROPERTIES,
          replayed: { type: 'boolean' },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'nextBefore of the previous page' },
        },
      },
    },
  }, async (req) => ({
    ...(await ctx.store.deadLetters.search(toQuery(req.query))),
    depth: Object.fromEntries(await ctx.store.deadLetters.depthByConnector()),
  }));

  app.post<{ Params: { id: number } }>('/v1/console/dead-letters/:id/replay', {
    config: { roles: WRITE_ROLES },
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } } },
  }, async (req, reply) => {
    const caller = req.operator!;
    const dl = await ctx.store.deadLetters.get(req.params.id);
    // Keyed by the message: the intent is chained before the replay's own events.
    const intent = await ctx.audit.record(caller, 'replay', { deadLetterId: req.params.id, messageId: dl?.messageId ?? null, connector: dl?.connector ?? null }, dl?.messageId ?? undefined);
    try {
      const result = await ctx.replayer.replay(req.params.id, caller);
      return reply.code(202).send({ ...result, status: 'replayed' });
    } catch (err) {
      await ctx.audit.recordFailure(caller, 'replay', { deadLetterId: req.params.id, code: (err as ProblemError).code ?? 'ERROR' }, intent);
      throw err;
    }
  });

  app.post<{ Body: FilterInput & { max?: number } }>('/v1/console/dead-letters/replay', {
    config: { roles: WRITE_ROLES },
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        properties: { ...FILTER_PROPERTIES, max: { type: 'integer', minimum: 1, maximum: MAX_BULK_REPLAY, default: 100 } },
      },
    },
  }, async (req, reply) => {
    const caller = req.operator!;
    const { max = 100, ...filter } = req.body ?? {};
    const query = toQuery(filter);
    const candidates = await ctx.store.deadLetters.replayCandidates(query, max);
    const intent = await ctx.audit.record(caller, 'bulk_replay', { filter, max, matched: candidates.length });
    // One replay intent per message too, keyed by the message like a single replay's: the audit
    // then chains each message's intent before its 'replayed' event, which the bulk intent alone
    // (one partition, the messages' events on others) could not promise.
    const intents = await ctx.audit.recordEach(caller, 'replay', candidates.map((c) => ({
      detail: { deadLetterId: c.id, messageId: c.messageId, connector: c.connector, bulkReplay: intent.id },
      // A dead letter without a readable message id has no message partition to follow.
      orderKey: c.messageId ?? intent.key,
    })));
    const replayed: { id: number; messageId: string }[] = [];
    const skipped: { id: number; code: string; detail: string }[] = [];
    for (const [i, { id }] of candidates.entries()) {
      try {
        const r = await ctx.replayer.replay(id, caller);
        replayed.push({ id: r.id, messageId: r.messageId });
      } catch (err) {
        if (!(err instanceof ProblemError)) throw err;
        skipped.push({ id, code: err.code, detail: err.detail });
        await ctx.audit.recordFailure(caller, 'replay', { deadLetterId: id, code: err.code }, intents[i]);
        // Kafka gone: stop here rather than fail the rest one by one.
        if (err.status === 503) break;
      }
    }
    if (skipped.length > 0) await ctx.audit.recordFailure(caller, 'bulk_replay', { filter, replayed: replayed.length, skipped: skipped.length }, intent);
    return reply.code(202).send({ matched: candidates.length, replayed, skipped });
  });
}
