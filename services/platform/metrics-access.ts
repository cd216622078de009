// Who may read /metrics. Its figures name connectors, routes, message types and rates: useful to
// anyone mapping the bus, so the port agency systems call must not hand them to every caller.
// A scraper on the same host (loopback, no proxy in between) reads them as before — `npm start`,
// the bench, a node-local Prometheus agent; any other caller needs the metrics token
// (LGSP_METRICS_TOKEN, a Prometheus `authorization` credential), and with no token configured
// the metrics stay on the host.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BEARER_CHALLENGE, bearerToken, singleAuthorization } from './bearer-auth.js';
import { ProblemError, problems } from './problem.js';

/** Headers a reverse proxy adds: a loopback socket carrying one speaks for someone else. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The metrics token from the environment (LGSP_METRICS_TOKEN); blank counts as none. */
export function metricsTokenFromEnv(value: string | undefined = process.env.LGSP_METRICS_TOKEN): string | undefined {
  return value?.trim() || undefined;
}

/** A preHandler refusing /metrics to anyone but a same-host scraper or a holder of the token. */
export function metricsAccessGuard(token: string | undefined) {
  // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the first byte.
  const expected = token ? digest(token) : undefined;
  return async function guardMetrics(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = singleAuthorization(req, reply);
    if (header === undefined) {
      const proxied = FORWARDING_HEADERS.some((name) => req.headers[name] !== undefined);
      if (isLoopback(req.socket.remoteAddress) && !proxied) return;
      if (!expected) {
        throw problems.forbidden('METRICS_FORBIDDEN', 'Metrics are served to this host only: no metrics token is configured (LGSP_METRICS_TOKEN) for scrapers elsewhere');
      }
      reply.header('WWW-Authenticate', BEARER_CHALLENGE);
      throw problems.unauthenticated('Metrics from another host take "Authorization: Bearer <metrics token>" (LGSP_METRICS_TOKEN)');
    }
    const presented = bearerToken(header, reply);
    if (expected && timingSafeEqual(digest(presented), expected)) return;
    reply.header('WWW-Authenticate', `${BEARER_CHALLENGE}, error="invalid_token"`);
    throw new ProblemError(401, 'INVALID_TOKEN', 'Invalid token', expected ? 'This is not the metrics token' : 'No metrics token is configured on this service (LGSP_METRICS_TOKEN)');
  };
}
