// Message search and a message's trace: every hop of its journey with the time it took.
import type { FastifyInstance } from 'fastify';
import { problems } from '../../platform/problem.js';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES } from '../console-auth.js';
import type { MessageQuery, TimelineEvent } from '../message-index.js';
import { MESSAGE_STATUSES } from '../../platform/bus-events.js';
import { canonicalId } from '../../platform/uuid7.js';
import { TIME_BOUND_SCHEMA } from '../../platform/time-bound.js';
import { nfcFilters, timeWindow } from './query-schemas.js';
import { isKnownBusinessStatus, knownBusinessStatusesText } from '../business-status.js';

/** The index's query plus `q`, a free-text id that may be a message id or a correlation id. */
interface SearchQuery extends MessageQuery {
  q?: string;
}

export interface TraceHop extends TimelineEvent {
  /** Who handled this step: gateway, runner/<connector>, console/<operator>. */
  hop: string;
  sinceAcceptedMs: number | null;
  sincePreviousMs: number | null;
}

/** Hop labels and timings for a timeline (already in time order). */
export function traceHops(timeline: TimelineEvent[]): TraceHop[] {
  const accepted = timeline.find((e) => e.event === 'accepted');
  const start = accepted ? Date.parse(accepted.at) : null;
  let previous: number | null = null;
  return timeline.map((e) => {
    const t = Date.parse(e.at);
    const hop: TraceHop = {
      ...e,
      hop: e.actor ?? 'unknown',
      sinceAcceptedMs: start === null ? null : t - start,
      sincePreviousMs: previous === null ? null : t - previous,
    };
    previous = t;
    return hop;
  });
}

const ID = { type: 'string', minLength: 1, maxLength: 200 };

export async function messageRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get<{ Querystring: SearchQuery }>('/v1/console/messages', {
    config: { roles: READ_ROLES },
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          q: { type: 'string', maxLength: 200, description: 'A message id or correlation id' },
          id: ID,
          correlationId: ID,
          member: { type: 'string', minLength: 1, maxLength: 100 },
          type: { type: 'string', minLength: 1, maxLength: 200, description: 'Exact type, or a family as edoc.*' },
          // A transport status; a business status code is read as businessStatus, as before the
          // two were separate filters (message-index.ts); anything else (a typo) is refused.
          status: { type: 'string', minLength: 1, maxLength: 64, description: `Transport status (${MESSAGE_STATUSES.join(', ')}); a known business status code is read as businessStatus, any other value is refused` },
          businessStatus: { type: 'string', minLength: 1, maxLength: 64, description: "Business status code of the message's family (edXML StatusCode, TrangThaiHoSo; a dossier status name stands for its code)" },
          from: TIME_BOUND_SCHEMA,
          to: TIME_BOUND_SCHEMA,
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          // The cursor is `<last event time>|<message id>` as nextBefore gave it: a time of
          // another form would compare as text against the stored ISO instants and page wrongly.
          before: { type: 'string', maxLength: 300, pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z\\|[^|]+$', description: 'nextBefore of the previous page' },
        },
      },
    },
  }, async (req) => {
    const { q, ...query } = nfcFilters(req.query);
    if (query.status !== undefined && !(MESSAGE_STATUSES as readonly string[]).includes(query.status) && !isKnownBusinessStatus(query.status)) {
      throw problems.badRequest(`status ${JSON.stringify(query.status)} is neither a transport status (${MESSAGE_STATUSES.join(', ')}) nor a known business status: ${knownBusinessStatusesText()}`, [
        { field: 'querystring.status', message: `must be one of ${MESSAGE_STATUSES.join(', ')}, or a business status code` },
      ]);
    }
    const base = { ...query, ...(query.id === undefined ? {} : { id: canonicalId(query.id) }), ...timeWindow(query.from, query.to) };
    const term = q?.trim();
    if (!term) return await ctx.store.messages.search(base);
    // The search box takes either kind of id: try the message id, then the correlation id (as
    // typed: a correlation id is the sender's text, and its case is part of it).
    const byId = await ctx.store.messages.search({ ...base, id: canonicalId(term) });
    return byId.items.length > 0 ? byId : await ctx.store.messages.search({ ...base, correlationId: term });
  });

  app.get<{ Params: { id: string } }>('/v1/console/messages/:id', {
    config: { roles: READ_ROLES },
    schema: { params: { type: 'object', properties: { id: ID }, required: ['id'] } },
  }, async (req) => {
    // An id pasted from an agency's log may be a UUID in upper case (a GUID column hands it back so).
    const message = await ctx.store.messages.get(canonicalId(req.params.id));
    if (!message) throw problems.notFound('MESSAGE_NOT_FOUND', `The console has seen no message ${req.params.id}`);
    const hops = traceHops(await ctx.store.messages.timeline(message.id));
    const last = hops.at(-1);
    return {
      message,
      hops,
      totalMs: hops.length > 0 && last?.sinceAcceptedMs !== null ? last?.sinceAcceptedMs : null,
      related: await ctx.store.messages.related(message),
      deadLetters: (await ctx.store.deadLetters.search({ messageId: message.id, limit: 20 })).items,
    };
  });
}
