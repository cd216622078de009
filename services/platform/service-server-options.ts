// The Fastify options every bus service is created with (gateway, runner, audit, console), so
// that what reaches a service before any route — parser refusals, URLs the router refuses, a
// request without Host — is answered the same way everywhere (problem+json), and slow plugins
// get the same start-up time.
import type { FastifyHttpOptions } from 'fastify';
import type { Server } from 'node:http';
import { clientErrors } from './client-errors.js';
import { PLUGIN_TIMEOUT_MS } from './plugin-timeout.js';
import { frameworkErrors } from './problem-handler.js';

/**
 * How long the request line and headers may take to arrive: past it Node ends the request with
 * ERR_HTTP_REQUEST_TIMEOUT, answered 408 REQUEST_TIMEOUT (client-errors.ts) on whatever operation
 * was being asked for, which is why every operation documents 408 (openapi-common-responses.ts).
 * Node's own default, said here so the document can name it; Node checks every 30 s
 * (connectionsCheckingInterval), so the answer comes up to 30 s later.
 */
export const HEADERS_TIMEOUT_MS = 60_000;

export const SERVICE_SERVER_OPTIONS = {
  frameworkErrors,
  clientErrorHandler: clientErrors,
  pluginTimeout: PLUGIN_TIMEOUT_MS,
  // Node answers an HTTP/1.1 request without Host itself, with an empty 400; the problem
  // handler's onRequest hook checks Host instead (host-header.ts), and answers problem+json.
  http: { requireHostHeader: false, headersTimeout: HEADERS_TIMEOUT_MS },
  // A request that still arrives while the service stops (pipelined, or on a keep-alive
  // connection that was busy when the stop began) got Fastify's own 503, plain JSON without
  // Retry-After, the one 503 of the bus without it. The problem handler answers it instead
  // (problem-handler.ts): 503 SHUTTING_DOWN, problem+json, with Retry-After.
  return503OnClosing: false,
} satisfies FastifyHttpOptions<Server>;
