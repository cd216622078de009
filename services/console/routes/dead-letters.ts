// The dead-letter browser: search, one-click replay, bulk replay by filter. Each replay is
// audited twice over: a `replayed` event on the message's timeline and an `operator_action`.
import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../platform/problem.js';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES, WRITE_ROLES } from '../console-auth.js';
import type { DeadLetterQuery } from '../dead-letter-store.js';
import { TIME_BOUND_SCHEMA, type RequestPart } from '../../platform/time-bound.js';
import { canonicalId } from '../../platform/uuid7.js';
import { nfcFilters, timeWindow } from './query-schemas.js';

type FilterInput = Omit<DeadLetterQuery, 'limit' | 'before'>;

const FILTER_PROPERTIES = {
  connector: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,62}$' },
  member: { type: 'string', minLength: 1, maxLength: 100 },
  type: { type: 'string', minLength: 1, maxLength: 200 },
  messageId: { type: 'string', minLength: 1, maxLength: 200 },
  reason: { type: 'string', minLength: 1, maxLength: 200, description: 'Text the reason contains (case-insensitive)' },
  from: TIME_BOUND_SCHEMA,
  to: TIME_BOUND_SCHEMA,
};

export const MAX_BULK_REPLAY = 500;
/** A bulk replay looks at most this many times `max` dead letters (those found expired are skipped). */
const SCAN_FACTOR = 4;

/** A filter as stored text reads: NFC, a message id that is a UUID in lower case (canonicalId). */
function toQuery(input: FilterInput, part: RequestPart = 'querystring'): DeadLetterQuery {
  const f = nfcFilters(input);
  return { ...f, ...(f.messageId === undefined ? {} : { messageId: canonicalId(f.messageId) }), ...timeWindow(f.from, f.to, part) };
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

  app.post<{ Body: FilterInput & { max?: number; dryRun?: boolean } }>('/v1/console/dead-letters/replay', {
    config: { roles: WRITE_ROLES },
    // Every field is optional: no body at all is the empty filter, not a schema violation. A
    // body of `null` is not "no body": it is refused by the schema like any non-object (this
    // request can replay every dead letter, so nothing unclear may stand for "all").
    preValidation: async (req) => {
      if (req.body === undefined) req.body = {};
    },
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...FILTER_PROPERTIES,
          max: { type: 'integer', minimum: 1, maximum: MAX_BULK_REPLAY, default: MAX_BULK_REPLAY },
          dryRun: { type: 'boolean', default: false, description: 'Only count: how many a replay would take, and how many match but cannot be replayed' },
        },
      },
    },
  }, async (req, reply) => {
    const caller = req.operator!;
    const { max = MAX_BULK_REPLAY, dryRun = false, ...filter } = req.body;
    const query = { ...toQuery(filter, 'body'), runnableConnectors: ctx.connectors };
    if (dryRun) {
      const { replayable, notReplayable } = await ctx.store.deadLetters.countReplayable(query);
      return { wouldReplay: Math.min(replayable, max), replayable, notReplayable };
    }
    const intent = await ctx.audit.record(caller, 'bulk_replay', { filter, max });
    const replayed: { id: number; messageId: string }[] = [];
    const skipped: { id: number; code: string; detail: string }[] = [];
    let matched = 0;
    let after: number | undefined;
    // A page at a time, oldest first, until `max` are replayed: a dead letter whose signature has
    // expired since it arrived is skipped and the next one taken, within a bounded scan.
    scan: while (replayed.length < max && matched < max * SCAN_FACTOR) {
      const page = await ctx.store.deadLetters.replayCandidates(query, max - replayed.length, after);
      if (page.length === 0) break;
      matched += page.length;
      after = page[page.length - 1].id;
      // One replay intent per message too, keyed by the message like a single replay's: the audit
      // then chains each message's intent before its 'replayed' event, which the bulk intent alone
      // (one partition, the messages' events on others) could not promise.
      const intents = await ctx.audit.recordEach(caller, 'replay', page.map((c) => ({
        detail: { deadLetterId: c.id, messageId: c.messageId, connector: c.connector, bulkReplay: intent.id },
        // A dead letter without a readable message id has no message partition to follow.
        orderKey: c.messageId ?? intent.key,
      })));
      for (const [i, { id }] of page.entries()) {
        try {
          const r = await ctx.replayer.replay(id, caller);
          replayed.push({ id: r.id, messageId: r.messageId });
        } catch (err) {
          if (!(err instanceof ProblemError)) throw err;
          skipped.push({ id, code: err.code, detail: err.detail });
          await ctx.audit.recordFailure(caller, 'replay', { deadLetterId: id, code: err.code }, intents[i]);
          // Kafka gone: stop here rather than fail the rest one by one.
          if (err.status === 503) break scan;
        }
      }
    }
    if (skipped.length > 0) await ctx.audit.recordFailure(caller, 'bulk_replay', { filter, matched, replayed: replayed.length, skipped: skipped.length }, intent);
    return reply.code(202).send({ matched, replayed, skipped });
  });
}
