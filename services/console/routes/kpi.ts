// KPI reports per agency and period, as JSON for the page and as CSV for the province's
// reporting (exports are audited: they take data out of the console).
import type { FastifyInstance } from 'fastify';
import { ProblemError, problems } from '../../platform/problem.js';
import type { Registry } from '../../platform/registry.js';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES } from '../console-auth.js';
import { buildKpiReport, kpiCsv } from '../kpi-report.js';
import { LOCAL_DATE, instant, nfcFilters } from './query-schemas.js';

interface KpiQuery {
  from: string;
  to: string;
  member?: string;
  lang?: 'vi' | 'en';
}

const MAX_PERIOD_DAYS = 3660;

const querystring = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    from: { ...LOCAL_DATE, description: 'First day of the period (local date, inclusive)' },
    to: { ...LOCAL_DATE, description: 'Day after the period (local date, exclusive)' },
    member: { type: 'string', minLength: 1, maxLength: 100 },
    lang: { enum: ['vi', 'en'], default: 'vi' },
  },
};

/** A member the registry does not know has no row in the report: say so rather than answer an empty one. */
function checkMember(q: KpiQuery, registry: Registry): void {
  if (q.member !== undefined && !registry.member(q.member)) {
    throw new ProblemError(422, 'UNKNOWN_MEMBER', 'Unknown member', `Member ${q.member} is not in the registry`, { errors: [{ field: 'querystring.member', message: 'not in the registry' }] });
  }
}

function checkPeriod(q: KpiQuery): void {
  const from = Date.parse(instant(q.from, 'from')!);
  const to = Date.parse(instant(q.to, 'to')!);
  if (to <= from) throw problems.validation('Invalid query string: to must be after from', [{ field: 'querystring.to', message: 'must be after from' }]);
  if ((to - from) / 86_400_000 > MAX_PERIOD_DAYS) {
    throw problems.validation(`Invalid query string: a period is at most ${MAX_PERIOD_DAYS} days`, [{ field: 'querystring.to', message: `period longer than ${MAX_PERIOD_DAYS} days` }]);
  }
}

export async function kpiRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get<{ Querystring: KpiQuery }>('/v1/console/kpi', { config: { roles: READ_ROLES }, schema: { querystring } }, async (req) => {
    const query = nfcFilters(req.query);
    checkPeriod(query);
    checkMember(query, ctx.registry());
    return await buildKpiReport(ctx.store.messages, ctx.registry().members, query, query.member);
  });

  app.get<{ Querystring: KpiQuery }>('/v1/console/kpi.csv', { config: { roles: READ_ROLES }, schema: { querystring } }, async (req, reply) => {
    const query = nfcFilters(req.query);
    checkPeriod(query);
    checkMember(query, ctx.registry());
    const report = await buildKpiReport(ctx.store.messages, ctx.registry().members, query, query.member);
    await ctx.audit.record(req.operator!, 'kpi_export', { from: query.from, to: query.to, member: query.member ?? null });
    const name = `lgsp-kpi-${query.from}_${query.to}${query.member ? '-' + query.member : ''}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(kpiCsv(report, query.lang ?? 'vi'));
  });
}
