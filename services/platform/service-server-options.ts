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
} satisfies FastifyHttpOptions<Server>;
