// Connector status with pause, resume and restart, through the runner's management API
// (Kafka Connect style). The console adds what the runner cannot see: each connector's consumer
// lag and dead-letter depth. Actions are operator-only and audited before they are forwarded.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES, WRITE_ROLES } from '../console-auth.js';
import type { OperatorActionName } from '../operator-audit.js';
import { callUpstream, relay } from '../upstream.js';
import { connectorAuditKey } from '../../platform/bus-events.js';

const NAME = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,62}$' } } };

export async function connectorRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/v1/console/connectors', { config: { roles: READ_ROLES } }, async (req, reply) => {
    const list = await callUpstream(ctx.upstream.runner, 'runner', '/v1/connectors', { token: req.accessToken! });
    if (list.status !== 200) return relay(req, reply, list);
    const depth = await ctx.store.deadLetters.depthByConnector();
    const lags = ctx.lag.lags;
    const names = list.body as string[];
    return Promise.all(
      names.map(async (name) => {
        const status = await callUpstream(ctx.upstream.runner, 'runner', `/v1/connectors/${encodeURIComponent(name)}/status`, { token: req.accessToken! });
        const lag = lags.find((l) => l.kind === 'connector' && l.name === name);
        return {
          name,
          ...(status.status === 200 ? (status.body as object) : { connector: { state: 'UNKNOWN' }, lastError: `status ${status.status}` }),
          lag: lag?.lag ?? null,
          lagByTopic: lag?.byTopic ?? {},
          deadLetters: depth.get(name) ?? 0,
        };
      }),
    );
  });

  const action = (verb: 'PUT' | 'POST', op: 'pause' | 'resume' | 'restart') =>
    app.route<{ Params: { name: string } }>({
      method: verb,
      url: `/v1/console/connectors/:name/${op}`,
      config: { roles: WRITE_ROLES },
      schema: { params: NAME },
      handler: async (req, reply) => {
        const name = req.params.name;
        const auditName = `connector_${op}` as OperatorActionName;
        // Keyed by the connector as the runner keys its record of the action: the intent comes first in the chain.
        const intent = await ctx.audit.record(req.operator!, auditName, { connector: name }, connectorAuditKey(name));
        const r = await callUpstream(ctx.upstream.runner, 'runner', `/v1/connectors/${encodeURIComponent(name)}/${op}`, { method: verb, token: req.accessToken! });
        if (r.status >= 300) await ctx.audit.recordFailure(req.operator!, auditName, { connector: name, status: r.status }, intent);
        if (r.body === null) return reply.code(r.status).send();
        return relay(req, reply, r);
      },
    });
  action('PUT', 'pause');
  action('PUT', 'resume');
  action('POST', 'restart');
}
