// Bounds the request bodies a gateway holds at once. Every body is parsed, validated, digested,
// sealed and encoded on its way to Kafka: several copies of it live until the produce is
// acknowledged, so memory grows with bodies in flight, and nothing else bounds them (each
// connection may send up to the body limit, attachments more). Past the budget a request is
// refused before its body is read — 503 with Retry-After, nothing accepted — instead of the
// process growing until the kernel or V8 ends it. Its services run with a fixed old-space limit
// (service-node-flags.ts); this budget is what keeps the gateway well inside it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { problems } from '../platform/problem.js';

export interface InflightBodyBudgetOptions {
  /** Bytes of request bodies held at once, at most. */
  maxBytes: number;
  metrics: MetricsRegistry;
}

/** What a request may bring: its Content-Length, or its route's body limit when it does not say. */
function announcedBytes(req: FastifyRequest): number {
  const length = req.headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    // A malformed length is Fastify's to refuse (400/415); it reserves nothing here.
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }
  if (req.headers['transfer-encoding'] === undefined) return 0;
  return req.routeOptions.bodyLimit ?? 0;
}

export const inflightBodyBudget = fp(async function inflightBodyBudget(app: FastifyInstance, opts: InflightBodyBudgetOptions) {
  let held = 0;
  new Gauge({
    name: 'lgsp_gateway_inflight_body_bytes',
    help: 'Bytes of request bodies the gateway holds now (announced lengths), bounded by LGSP_MAX_INFLIGHT_BODY_BYTES',
    registers: [opts.metrics],
    collect() {
      this.set(held);
    },
  });
  const refused = new Counter({
    name: 'lgsp_gateway_busy_refusals_total',
    help: 'Requests refused with 503 GATEWAY_BUSY because the bodies in flight had reached LGSP_MAX_INFLIGHT_BODY_BYTES',
    registers: [opts.metrics],
  });

  app.addHook('onRequest', async (req, reply) => {
    const bytes = Math.min(announcedBytes(req), opts.maxBytes);
    if (bytes === 0) return;
    // A lone body larger than the budget still passes when nothing else is held (its route's
    // own limit decides), so the budget never refuses a request that could succeed alone.
    if (held > 0 && held + bytes > opts.maxBytes) {
      refused.inc();
      throw problems.gatewayBusy();
    }
    held += bytes;
    // 'close' comes once, whether the response was sent or the connection dropped first.
    reply.raw.once('close', () => {
      held -= bytes;
    });
  });
});
