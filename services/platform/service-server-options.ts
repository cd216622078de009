// The Fastify options every bus service is created with (gateway, runner, audit, console), so
// that what reaches a service before any route — parser refusals, URLs the router refuses, a
// request without Host — is answered the same way everywhere (problem+json), and slow plugins
// get the same start-up time.
import type { FastifyHttpOptions } from 'fastify';
import type { Server } from 'node:http';
import { clientErrors } from './client-errors.js';
import { PLUGIN_TIMEOUT_MS } from './plugin-timeout.js';
import { frameworkErrors } from './problem-handler.js';

export const SERVICE_SERVER_OPTIONS = {
  frameworkErrors,
  clientErrorHandler: clientErrors,
  pluginTimeout: PLUGIN_TIMEOUT_MS,
  // Node answers an HTTP/1.1 request without Host itself, with an empty 400; the problem
  // handler's onRequest hook checks Host instead (host-header.ts), and answers problem+json.
  http: { requireHostHeader: false },
  // A request that still arrives while the service stops (pipelined, or on a keep-alive
  // connection that was busy when the stop began) got Fastify's own 503, plain JSON without
  // Retry-After, the one 503 of the bus without it. The problem handler answers it instead
  // (problem-handler.ts): 503 SHUTTING_DOWN, problem+json, with Retry-After.
  return503OnClosing: false,
} satisfies FastifyHttpOptions<Server>;
