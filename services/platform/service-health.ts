// /healthz, /readyz and /metrics, the same on every service. Readiness checks are supplied by
// the service (Kafka reachable, registry loaded, ...); metrics are Prometheus text from a
// per-service registry with HTTP request counts and latencies.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { databaseStatementTotals } from './database-statement-counts.js';
import { kafkaRequestTotals } from './kafka-request-counts.js';
import { statsCounter } from './stats-counter.js';
import { problemResponse } from './openapi-shapes.js';
import { ProblemError } from './problem.js';
import { sendProblem } from './problem-handler.js';
import { metricsAccessGuard, metricsTokenFromEnv } from './metrics-access.js';

const CHECKS = {
  type: 'object',
  description: 'Each dependency by name: `ok`, and when not, a `detail` saying why',
  additionalProperties: { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } }, required: ['ok'] },
};
const HEALTHY = { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] };
const READINESS_RESPONSES = {
  200: { description: 'Ready: every check passed', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ready' }, checks: CHECKS }, required: ['status', 'checks'] } } } },
  503: problemResponse('Not ready (NOT_READY): `detail` names the failing checks, `checks` holds every one'),
};

/**
 * Set when the process was told to stop (service-main.ts): from then on /readyz answers 503 while
 * the service still serves, so a load balancer drains it before it stops taking work.
 */
let stoppingSince: number | null = null;

export function markStopping(): void {
  stoppingSince ??= Date.now();
}

export type ReadinessCheck = () => Promise<{ ok: boolean; detail?: string }>;

/** A readiness check that has not answered by then counts as not ready. */
export const READINESS_TIMEOUT_MS = 2500;

export function createMetricsRegistry(service: string): MetricsRegistry {
  const registry = new MetricsRegistry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  statsCounter({
    name: 'lgsp_kafka_requests_total',
    help: 'Kafka requests this process sent, by API (the broker works per request more than per record)',
    labelNames: ['api'],
    registers: [registry],
    read: kafkaRequestTotals,
  });
  statsCounter({
    name: 'lgsp_db_statements_total',
    help: 'PostgreSQL statements this process sent, by pool (each one a round trip; begin and commit count)',
    labelNames: ['pool'],
    registers: [registry],
    read: databaseStatementTotals,
  });
  return registry;
}

export const serviceHealth = fp(async function serviceHealth(
  app: FastifyInstance,
  opts: { metrics: MetricsRegistry; checks: Record<string, ReadinessCheck>; metricsToken?: string },
) {
  const requests = new Counter({
    name: 'lgsp_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [opts.metrics],
  });
  const latency = new Histogram({
    name: 'lgsp_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [opts.metrics],
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  // While draining, each answer closes its connection: a client's pooled keep-alive connection
  // would otherwise still be open, idle, when the service stops, and a request sent on it just
  // then is reset (the client cannot tell whether it was taken). A new connection finds the
  // other instances once the load balancer has drained this one.
  app.addHook('onSend', async (_req, reply) => {
    if (stoppingSince !== null) reply.header('connection', 'close');
  });

  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness', response: { 200: { description: '`{"status": "ok"}`', content: { 'application/json': { schema: HEALTHY } } } } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness: every dependency of this service answers (Kafka, PostgreSQL, keys and registry, …)', response: READINESS_RESPONSES } }, async (req, reply) => {
    const results: Record<string, { ok: boolean; detail?: string }> = {};
    if (stoppingSince !== null) results.shutdown = { ok: false, detail: `stopping since ${new Date(stoppingSince).toISOString()}: still serving while load balancers drain it` };
    await Promise.all(
      Object.entries(opts.checks).map(async ([name, check]) => {
        // A dependency that hangs (a stopped PostgreSQL server keeps its sockets open) must make
        // the service not ready within seconds, not hang the probe.
        let timer: NodeJS.Timeout | undefined;
        try {
          results[name] = await Promise.race([
            check(),
            new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS))),
          ]);
        } catch (err) {
          results[name] = { ok: false, detail: (err as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const failing = Object.entries(results).filter(([, r]) => !r.ok);
    if (failing.length === 0) return reply.code(200).send({ status: 'ready', checks: results });
    // An error answer like every other (RFC 9457), with the checks as an extension member: a
    // probe reads the status code, a person the detail, a dashboard each check. Retry-After like
    // every other 503 of the bus (the OpenAPI documents say so for each): a check is worth asking
    // again once its own timeout has passed.
    const detail = `Not ready: ${failing.map(([name, r]) => (r.detail ? `${name} (${r.detail})` : name)).join('; ')}`;
    return sendProblem(reply, new ProblemError(503, 'NOT_READY', 'Not ready', detail, { checks: results, retryAfterSeconds: Math.ceil(READINESS_TIMEOUT_MS / 1000) }), req.url);
  });

  // Same host, or the metrics token (metrics-access.ts): the port agency systems call keeps the
  // bus's figures to itself.
  const guardMetrics = metricsAccessGuard(opts.metricsToken ?? metricsTokenFromEnv());
  app.get('/metrics', { preHandler: guardMetrics, schema: { tags: ['operations'], summary: 'Prometheus metrics (this host, or `Authorization: Bearer <LGSP_METRICS_TOKEN>`)', hide: true } }, async (_req, reply) =>
    reply.type(opts.metrics.contentType).send(await opts.metrics.metrics()),
  );
});
