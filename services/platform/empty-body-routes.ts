// A route that takes no body (an inbox ack, a connector restart, a dead-letter replay) sent an
// empty body under a Content-Type the service has no parser for: Java's HttpURLConnection with
// setDoOutput(true) declares application/x-www-form-urlencoded with Content-Length: 0, as
// curl -X POST -d '' does. Fastify picks a parser by the declared type before it looks at the
// length, and answered 415 for a body that is not there, while the same nothing declared as
// JSON was taken (utf8-json-parser.ts). An empty body is no body, whatever its declared type: on
// a route without a body schema, the type of an empty body is set aside before Fastify reads it.
// Only such routes carry the hook: a route that takes a body (POST /v1/messages) costs the same.
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function setAsideEmptyBodyType(req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const headers = req.raw.headers;
  if (headers['content-type'] !== undefined && headers['transfer-encoding'] === undefined && headers['content-length'] === '0') delete headers['content-type'];
  done();
}

/** Registered before the routes (problemHandler does it for every service). */
export function emptyBodiesAreNoBodies(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if ((route.schema as { body?: unknown } | undefined)?.body !== undefined) return;
    if (![route.method].flat().some((m) => METHODS_WITH_BODY.has(m))) return;
    route.onRequest = [...[route.onRequest ?? []].flat(), setAsideEmptyBodyType] as RouteOptions['onRequest'];
  });
}
