// Bounds the request bodies a gateway holds at once. Every body is parsed, validated, digested,
// sealed and encoded on its way to Kafka: several copies of it live until the produce is
// acknowledged, so memory grows with bodies in flight, and nothing else bounds them (each
// connection may send up to the body limit, attachments more). Past the budget a request is
// refused before its body is read — 503 with Retry-After, nothing accepted — instead of the
// process growing until the kernel or V8 ends it. Its services run with a fixed old-space limit
// (service-node-flags.ts); this budget is what keeps the gateway well inside it.
// No one holder (an agency system, or an address before it has logged in) may take more than
// half of it (beyond one body of its own, so an upload up to the limit always goes): a client announcing huge bodies and then sending nothing would otherwise make
// every other client's submissions 503 for as long as it keeps its connections open. A body that
// stops arriving is also cut by the gateway's idle timeout (gatewayServerTimeouts), which gives
// its bytes back.
// Large answers count against the same budget (holdAnswerBytes): an attachment download, or an
// inbox item's edXML package with its attachments, is held whole in memory until the client has
// read it, and a client that opens downloads and reads
// nothing would otherwise grow the gateway by the file's size for each one (ten paused
// downloads of a 20 MB file took 240 MB) until the idle timeout closed them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { problems } from '../platform/problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Counts an answer of `bytes` the route is about to build against the gateway's budget until
     * the answer is sent or its connection drops; throws 503 GATEWAY_BUSY (nothing was done)
     * when the budget, or the client's half of it, is taken. Absent where no budget is set.
     */
    holdAnswerBytes?: (reply: FastifyReply, bytes: number) => void;
  }
}

export interface InflightBodyBudgetOptions {
  /** Bytes of request bodies held at once, at most. */
  maxBytes: number;
  metrics: MetricsRegistry;
  /** Who a request's bytes count against (the gateway: the authenticated client, else the address). */
  holderOf: (req: FastifyRequest) => string;
}

/** The share of the budget one holder may take (beyond a lone body of its own). */
export const HOLDER_SHARE = 0.5;

/** The gateway's server timeouts: a connection silent this long is closed, a stalled body with it. */
export function gatewayServerTimeouts(idleMs: number): { connectionTimeout: number; requestTimeout: number } {
  // requestTimeout (the whole request received within) only backs the idle timeout up against a
  // body trickled a byte at a time; Node checks it every 30 s, so it is coarse by design.
  return { connectionTimeout: idleMs, requestTimeout: Math.max(idleMs, 300_000) };
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
    help: 'Bytes of request bodies (announced lengths) and large answers (attachment downloads, inbox items) the gateway holds now, bounded by LGSP_MAX_INFLIGHT_BODY_BYTES',
    registers: [opts.metrics],
    collect() {
      this.set(held);
    },
  });
  const refused = new Counter({
    name: 'lgsp_gateway_busy_refusals_total',
    help: 'Requests refused with 503 GATEWAY_BUSY because the bodies and answers in flight had reached LGSP_MAX_INFLIGHT_BODY_BYTES',
    registers: [opts.metrics],
  });

  const holderMax = Math.floor(opts.maxBytes * HOLDER_SHARE);
  const heldBy = new Map<string, number>();

  /** Holds `bytes` for `holder` until `reply`'s connection closes, or throws GATEWAY_BUSY. */
  function hold(holder: string, bytes: number, reply: FastifyReply, answer: boolean): void {
    const mine = heldBy.get(holder) ?? 0;
    // A lone body (or answer) larger than the budget or the holder's share still passes when
    // nothing else is held (its route's own limit decides), so the budget never refuses a
    // request that could succeed alone.
    const overall = held > 0 && held + bytes > opts.maxBytes;
    if (overall || (mine > 0 && mine + bytes > holderMax)) {
      refused.inc();
      throw problems.gatewayBusy(!overall, answer);
    }
    held += bytes;
    heldBy.set(holder, mine + bytes);
    // 'close' comes once, whether the response was sent or the connection dropped first.
    reply.raw.once('close', () => {
      held -= bytes;
      const left = (heldBy.get(holder) ?? bytes) - bytes;
      if (left > 0) heldBy.set(holder, left);
      else heldBy.delete(holder);
    });
  }

  app.addHook('onRequest', async (req, reply) => {
    const bytes = Math.min(announcedBytes(req), opts.maxBytes);
    if (bytes === 0) return;
    hold(opts.holderOf(req), bytes, reply, false);
  });

  app.decorateRequest('holdAnswerBytes', function holdAnswerBytes(this: FastifyRequest, reply: FastifyReply, bytes: number) {
    if (bytes > 0) hold(opts.holderOf(this), Math.min(bytes, opts.maxBytes), reply, true);
  });
});
