// /healthz, /readyz and /metrics, the same on every service. Readiness checks are supplied by
// the service (Kafka reachable, registry loaded, ...); metrics are Prometheus text from a
// per-service registry with HTTP request counts and latencies.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { databaseStatementTotals } from './database-statement-counts.js';
import { kafkaRequestTotals } from './kafka-request-counts.js';
import { statsCounter } from './stats-counter.js';

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
  opts: { metrics: MetricsRegistry; checks: Record<string, ReadinessCheck> },
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

  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness: Kafka reachable, registry loaded' } }, async (_req, reply) => {
    const results: Record<string, { ok: boolean; detail?: string }> = {};
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
    const ok = Object.values(results).every((r) => r.ok);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks: results });
  });

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } }, async (_req, reply) =>
    reply.type(opts.metrics.contentType).send(await opts.metrics.metrics()),
  );
});
