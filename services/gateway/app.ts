// The gateway's Fastify application: plugins in the order requests meet them, then routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { RATE_LIMIT_WINDOW_MS, sharedRateLimitStore } from './shared-rate-limit.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Registry as MetricsRegistry } from 'prom-client';
import { problemHandler } from '../platform/problem-handler.js';
import { SERVICE_SERVER_OPTIONS } from '../platform/service-server-options.js';
import { rateLimitProblem } from '../platform/problem.js';
import { bearerAuth } from '../platform/bearer-auth.js';
import { serviceHealth, type ReadinessCheck } from '../platform/service-health.js';
import { gatewayServerTimeouts, inflightBodyBudget } from './inflight-body-budget.js';
import type { GatewayContext } from './gateway-context.js';
import { useUtf8FormParser } from './utf8-form-parser.js';
import { tokenRoutes } from './routes/token.js';
import { refuseUnknownQueryParameters } from '../platform/unknown-query-parameters.js';
import { messageRoutes } from './routes/messages.js';
import { directoryRoutes } from './routes/directory.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { requestRoutes } from './routes/requests.js';
import { messageTypeComponents, messageTypeIndex, withModuleRequestBodies } from './openapi-message-types.js';
import { withTypedPayloads } from './openapi-typed-payloads.js';
import { withOpenObjects } from '../platform/openapi-open-objects.js';
import { withCommonResponses } from '../platform/openapi-common-responses.js';
import { conditionalGet, withConditionalReads } from '../platform/conditional-get.js';
import { withDocumentedAnswers } from '../platform/openapi-answers.js';
import { gatewayAnswers } from './openapi-answers.js';
import { withPublicOperationsSaid } from '../platform/openapi-public-operations.js';
import { openapiPath, withHeadersAlwaysSent, withRateLimitHeaders } from '../platform/openapi-response-headers.js';
import type { GatewayModule } from '../platform/gateway-module.js';
import { trustProxyOption } from '../platform/trusted-proxies.js';
import { docsPageCsp } from '../platform/security-headers.js';

export async function buildGatewayApp(ctx: GatewayContext, modules: readonly GatewayModule[], metrics: MetricsRegistry, checks: Record<string, ReadinessCheck>): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    // Per-request "incoming"/"completed" lines only when someone reads them (debug, trace):
    // otherwise nothing is built or serialised for them on the hot path.
    logController: new LogController({ disableRequestLogging: ctx.config.logLevel !== 'debug' && ctx.config.logLevel !== 'trace' }),
    bodyLimit: ctx.config.maxBodyBytes,
    // The longest path parameter a route documents is a DocumentId (GET /v1/documents/{documentId}):
    // up to 200 characters, as edoc.send takes it, which the router's default (100) answered with
    // 414 from 101 on. Measured in UTF-16 units, so 200 characters of any kind fit.
    routerOptions: { maxParamLength: 400 },
    trustProxy: trustProxyOption(ctx.config.trustedProxies),
    ...SERVICE_SERVER_OPTIONS,
    ...gatewayServerTimeouts(ctx.config.connectionIdleTimeoutMs),
  });
  // Route schemas are validated by the catalogue's ajv (draft 2020-12, formats), the same
  // instance that validates payloads, so one set of rules applies everywhere.
  // Only JSON (and forms for /v1/token, in its scope below) are API bodies; a text/plain body
  // is refused with 415 rather than reaching validation as a string.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(({ schema }) => ctx.catalogue.ajv.compile(schema));
  /** The operations the rate limit counts (`GET /v1/messages/{id}`): their answers carry its headers. */
  const rateLimited = new Set<string>();
  // The reads that answer If-None-Match (`config: { conditional: true }`), as conditionalGet finds them, for the document.
  const conditionalReads = new Set<string>();

  // A 415 names the types an operation takes: JSON, and the bodies the modules' parsers take
  // beside it (edXML on POST /v1/messages), as the OpenAPI document lists them.
  const moduleMediaTypes = new Map<string, string[]>();
  for (const module of modules) {
    for (const [operation, bodies] of Object.entries(module.openapiRequestBodies ?? {})) {
      // An operation taking any type (attachment uploads) never answers 415 for its type.
      if (Object.keys(bodies).some((type) => type.includes('*'))) continue;
      moduleMediaTypes.set(operation, [...new Set([...(moduleMediaTypes.get(operation) ?? ['application/json']), ...Object.keys(bodies)])]);
    }
  }
  await app.register(problemHandler, { maxBodyBytes: ctx.config.maxBodyBytes, mediaTypes: (method, url) => moduleMediaTypes.get(`${method} ${url}`) });
  // Before any route: every read registered after it refuses unknown query parameters.
  refuseUnknownQueryParameters(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'LGSP bus gateway API',
        version: '1.0.0',
        description: 'Inter-agency data-sharing bus: obtain a token, submit signed and audited messages, follow their delivery.\n\n' +
          'Message types (the payload of POST /v1/messages must match the type\'s schema, also at GET /v1/schemas/{type}):\n' + messageTypeIndex(ctx.catalogue),
      },
      servers: [{ url: ctx.config.issuer }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // POST /v1/token only: legacy systems' client_secret_basic (RFC 6749 §2.3.1).
          clientSecretBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic at POST /v1/token: the client id and secret, each form-urlencoded (RFC 6749 §2.3.1)' },
        },
        schemas: messageTypeComponents(ctx.catalogue),
      },
    },
    // Bodies the modules' own parsers take (edXML, attachment bytes) beside the JSON ones, each
    // JSON submission's payload typed by its message type (openapi-typed-payloads.ts), the
    // precise schemas of the success answers (openapi-answers.ts: the document's only), and the
    // answers every operation can give (openapi-common-responses.ts); objects that name no
    // members said to be open (openapi-open-objects.ts); the headers always sent said required,
    // the rate limit's among them (openapi-response-headers.ts).
    transformObject: (document) =>
      'openapiObject' in document
        ? withPublicOperationsSaid(
          withOpenObjects(
            withHeadersAlwaysSent(
              withRateLimitHeaders(
                withConditionalReads(withCommonResponses(withDocumentedAnswers(withTypedPayloads(withModuleRequestBodies(document.openapiObject, modules), ctx.catalogue), gatewayAnswers, ...modules.flatMap((m) => (m.openapiAnswers ? [m.openapiAnswers] : []))), rateLimited, { unknownQueryRefused: true, requestTimeoutMs: gatewayServerTimeouts(ctx.config.connectionIdleTimeoutMs).requestTimeout, idleTimeoutMs: ctx.config.connectionIdleTimeoutMs }), conditionalReads),
                rateLimited,
              ),
            ),
          ),
        )
        : document.swaggerObject,
  });
  // A page, not an answer: its own policy (security-headers.ts) in place of every answer's.
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: docsPageCsp(ctx.config.issuer) });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(bearerAuth, { verifier: ctx.tokenVerifier });
  // After authentication, so a body counts against its client's share of the budget.
  await app.register(inflightBodyBudget, { maxBytes: ctx.config.maxInflightBodyBytes, metrics, holderOf: (req) => req.caller?.clientId ?? `address ${req.ip}` });
  // Counted before the body is parsed: requests refused for their body (malformed JSON, broken
  // edXML, schema) count too, and cost the client its allowance like any other.
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: RATE_LIMIT_WINDOW_MS,
    // A client's requests count on every gateway (shared-rate-limit.ts); an address's on this one.
    store: sharedRateLimitStore(ctx.rateCounts, (key) => ctx.registry().system(key) !== undefined, RATE_LIMIT_WINDOW_MS),
    keyGenerator: (req) => req.caller?.clientId ?? req.ip,
    max: (req, key) => (req.caller ? ctx.registry().system(key)?.rateLimitPerMinute : undefined) ?? ctx.config.rateLimitPerMinute,
    errorResponseBuilder: rateLimitProblem,
  });
  // Every route registered from here on is counted (by the global limit, or by its own
  // config.rateLimit, as POST /v1/token) unless it says `rateLimit: false`: the same rule as
  // @fastify/rate-limit's, for the document.
  app.addHook('onRoute', (route) => {
    if (route.config?.rateLimit === false) return;
    for (const method of [route.method].flat()) rateLimited.add(`${method.toUpperCase()} ${openapiPath(route.url)}`);
  });
  await app.register(serviceHealth, { metrics, checks });
  await app.register(conditionalGet, { reads: conditionalReads });

  // The token endpoint in a scope of its own: the domain modules' body parsers (edXML) never
  // apply to it, so a token request is a form (or JSON), never parsed XML; and forms are parsed
  // for it alone, so a form posted to the JSON API is a 415, not a body its schema half-reads.
  await app.register(async (scope) => {
    useUtf8FormParser(scope);
    await tokenRoutes(scope, ctx);
  });
  await app.register(async (scope) => {
    await messageRoutes(scope, ctx);
    await directoryRoutes(scope, ctx);
    await wellKnownRoutes(scope, ctx);
    await requestRoutes(scope, ctx);
    // Domain modules share the scope of POST /v1/messages: their content-type parsers (edXML)
    // apply to it, and the hooks they return carry their business rules.
    for (const module of modules) ctx.submissionHooks.push(...(await module.register(scope, ctx)));
  });
  return app;
}
