// POST /v1/token — OAuth2 client credentials grant (RFC 6749 §4.4).
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { ProblemError, problems } from '../../platform/problem.js';
import { isDatabaseUnavailable } from '../../platform/database.js';
import { issueAccessToken } from '../../platform/access-token.js';
import { rolesOf } from '../../platform/registry.js';
import type { GatewayContext } from '../gateway-context.js';
import { claimedClientId, OAuthError, TOKEN_ERRORS, type TokenRequestBody } from '../client-authentication.js';
import { textProblem } from '../../platform/text-guard.js';
import { problemResponse } from '../../platform/openapi-shapes.js';
import { authorizationHeaderCount } from '../../platform/bearer-auth.js';

/**
 * An OAuth error body (RFC 6749 §5.2) of one status: `error` one of the codes the endpoint
 * answers with that status (TOKEN_ERRORS), so a generated client can switch on them.
 */
function oauthError(status: keyof typeof TOKEN_ERRORS, description: string) {
  return {
    type: 'object',
    description,
    properties: {
      error: { type: 'string', enum: [...TOKEN_ERRORS[status]], description: 'RFC 6749 §5.2 error code' },
      error_description: { type: 'string', description: 'What was wrong, in words for the developer' },
    },
    required: ['error', 'error_description'],
  };
}

export async function tokenRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Every refusal of this scope is an OAuth error body (RFC 6749 §5.2): the handler's own, and
  // every request the service refuses as malformed (400) before the handler as invalid_request
  // ("or is otherwise malformed"): malformed or empty JSON, a __proto__ key, bytes that are not
  // UTF-8, and the checks every route meets (Content-Type or Host sent twice, no Host). Those
  // reached the service's problem+json handler, whose body did not fit the 400 this route
  // declares (the OAuth one): they were a 500. Other errors go on to that handler (415, 429, 501:
  // what the endpoint shares with every route, documented as problem+json).
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const unavailable = unavailableProblem(err);
    const malformed = malformedRequest(err);
    const refusal = err instanceof OAuthError ? err
      : malformed !== null ? new OAuthError('invalid_request', malformed)
      : unavailable ? new OAuthError('temporarily_unavailable', unavailable.detail)
      : null;
    // The shared 415 says what JSON endpoints take; this one takes a form. Postman's "form-data"
    // (multipart) is the usual slip, answered with the encoding to use instead.
    if (!refusal && err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') throw problems.unsupportedMediaType(tokenMediaTypeDetail(req.headers['content-type']));
    if (!refusal) throw err;
    ctx.audit.tokenRefusal(ctx.clientAuth.auditableClientId(claimedClientId(stringParameters(req.body), req.headers.authorization)), req.ip, refusal.description);
    // RFC 6749 §5.1: no-store, and Pragma for HTTP/1.0 caches on the way.
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    if (refusal.status === 503) reply.header('Retry-After', String(unavailable?.extras.retryAfterSeconds ?? 1));
    if (refusal.status === 401 && /^Basic/i.test(req.headers.authorization ?? '')) reply.header('WWW-Authenticate', 'Basic realm="lgsp"');
    return reply.code(refusal.status).send({ error: refusal.error, error_description: refusal.description });
  });
  // What this endpoint answers as problem+json (415, 429, 413, a 503 before the handler) also
  // names OAuth's error: client libraries read a token response's JSON and raise only when it has
  // `error`. Authlib took a 429 problem document for a token and the next call failed on its
  // missing token_type, the rate limit and its Retry-After never said.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string' || !String(reply.getHeader('content-type') ?? '').startsWith('application/problem+json')) return payload;
    return withOAuthError(reply.statusCode, payload);
  });
  app.post<{ Body: TokenRequestBody }>('/v1/token', {
    // Per network address and counted on arrival, before the body is read or parsed: a flood of
    // token requests is refused at the cost of a map lookup. (Other routes are limited per
    // authenticated client, after authentication.)
    config: {
      rateLimit: { hook: 'onRequest', max: ctx.config.tokenRateLimitPerMinute, timeWindow: 60_000, keyGenerator: (req) => req.ip },
      ownTextCheck: true,
      // Another method (GET from a browser or a misconfigured client) is the platform's 405 with
      // Allow: POST, answered outside this scope (its onSend above never sees it): it names
      // OAuth's error as the endpoint's other problem answers do, so an OAuth library raises it.
      wrongMethodMembers: { error: 'invalid_request', error_description: 'The token endpoint takes POST only: send the parameters as a form with POST /v1/token (RFC 6749 §3.2)' },
    },
    schema: {
      tags: ['auth'],
      summary: 'Obtain an access token (client credentials; private_key_jwt or client_secret_basic)',
      description: 'The parameters as a form (application/x-www-form-urlencoded, RFC 6749 §4.4.2: what OAuth 2.0 client libraries send). The same parameters as a JSON object are accepted too, for systems whose HTTP stack posts JSON only; a body of any other type is 415.',
      // Forms are the standard; JSON is taken as well on purpose (the scope's JSON parser stays on),
      // so the document says both instead of leaving a client generator to find out.
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      // Either no HTTP authentication (private_key_jwt: the assertion is in the body) or HTTP Basic
      // (client_secret_basic), so a generated client offers both; clientSecretBasic is in app.ts.
      security: [{}, { clientSecretBasic: [] }],
      // Checked with attachValidation: a bad parameter is answered as OAuth's invalid_request
      // (RFC 6749 §5.2), not as a problem document. Unknown parameters are ignored (§3.2).
      // grant_type is required (§4.4.2): said here so a client generated from the document sends
      // it; a request without it is refused by the grant_type check below, with its own words.
      body: {
        type: 'object',
        required: ['grant_type'],
        properties: {
          // minLength: a parameter sent empty is one omitted (RFC 6749 §3.1), refused like one.
          grant_type: { type: 'string', minLength: 1, description: 'client_credentials' },
          client_assertion_type: { type: 'string', description: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer (private_key_jwt)' },
          client_assertion: { type: 'string', description: 'The client assertion: a JWT signed with the system\'s registered key (private_key_jwt)' },
          client_id: { type: 'string', description: 'Optional with private_key_jwt; with client_secret_basic the id is in the Authorization header' },
          scope: { type: 'string', description: 'Not used: access is governed by the registry\'s access rights; a non-empty scope is refused' },
        },
      },
      response: {
        200: {
          type: 'object',
          description: 'An access token (RFC 6749 §5.1)',
          properties: { access_token: { type: 'string' }, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' } },
        },
        // OAuth 2.0's own error bodies (RFC 6749 §5.2), not problem+json; what the token endpoint
        // shares with every route (body media type, rate limit) answers problem+json.
        400: oauthError(400, `${TOKEN_ERRORS[400].join(', ')} (RFC 6749 §5.2); invalid_request also for a request malformed before its parameters are read (a body that is not valid JSON or UTF-8, Content-Type or Host sent twice)`),
        401: {
          ...oauthError(401, 'invalid_client (with WWW-Authenticate for client_secret_basic)'),
          headers: { 'WWW-Authenticate': { type: 'string', description: 'Basic realm="lgsp" when the client authenticated with client_secret_basic (RFC 6749 §5.2)' } },
        },
        503: oauthError(503, 'temporarily_unavailable (Retry-After): a store the endpoint needs (PostgreSQL) is unreachable, too many client secret checks are in progress, or the gateway is stopping'),
        // problem+json with OAuth's error beside the code: invalid_request (415), temporarily_unavailable (429).
        415: problemResponse('problem+json (415, UNSUPPORTED_MEDIA_TYPE), with OAuth\'s `error` (invalid_request) and `error_description` beside `code`, so an OAuth library raises it'),
        429: problemResponse('problem+json (429, RATE_LIMITED), with OAuth\'s `error` (temporarily_unavailable) and `error_description` beside `code`, so an OAuth library raises it'),
      },
    },
    attachValidation: true,
  }, async (req, reply) => {
    // RFC 6749 §5.1: no-store, and Pragma for HTTP/1.0 caches on the way.
    reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const body = (req.body ?? {}) as TokenRequestBody;
    // An absent body is an empty form: it is refused below for its missing grant_type.
    if (req.validationError && req.body !== undefined && req.body !== null && !onlyMissingParameters(req.validationError)) throw new OAuthError('invalid_request', parameterProblem(req.validationError));
    const textError = textProblem(body);
    if (textError) throw new OAuthError('invalid_request', `${textError.field} ${textError.message}`);
    if (body.grant_type !== 'client_credentials') {
      throw new OAuthError(body.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
    }
    // RFC 6749 §2.3: one authentication method per request; Node would keep the first of two
    // Authorization headers and drop the other unseen.
    if (authorizationHeaderCount(req) > 1) throw new OAuthError('invalid_request', 'Send the Authorization header once: this request carries several');
    // Before authentication: a client assertion is single-use (its jti is recorded when it is
    // checked), so a request refused for its scope after that check burnt an assertion the
    // client could have sent again without the scope.
    if (body.scope !== undefined && body.scope.trim() !== '') {
      throw new OAuthError('invalid_scope', 'Scopes are not used: access is governed by the registry access rights');
    }
    const { client, entry } = await ctx.clientAuth.authenticate(body, req.headers.authorization);
    const roles = rolesOf(client);
    const token = await issueAccessToken(ctx.signingKeys.token.signingKey, ctx.config.issuer, { clientId: client.clientId, member: client.member, roles, entry }, ctx.config.tokenTtlSeconds);
    return { access_token: token, token_type: 'Bearer', expires_in: ctx.config.tokenTtlSeconds };
  });
}

/** A problem document with OAuth's `error` and `error_description` (RFC 6749 §5.2) as extension members (RFC 9457 §3.2). */
function withOAuthError(status: number, payload: string): string {
  let problem: unknown;
  try {
    problem = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (typeof problem !== 'object' || problem === null || Array.isArray(problem) || 'error' in problem) return payload;
  const error = status === 429 || status === 503 ? 'temporarily_unavailable' : 'invalid_request';
  return JSON.stringify({ ...problem, error, error_description: (problem as { detail?: unknown }).detail });
}

function tokenMediaTypeDetail(contentType: string | undefined): string {
  const sent = (contentType ?? '').split(';')[0].trim().toLowerCase().slice(0, 100);
  const instead = sent === 'multipart/form-data' ? ': send the same fields URL-encoded (grant_type=client_credentials&…), not as multipart/form-data' : '';
  return `POST /v1/token takes its parameters as a form, application/x-www-form-urlencoded (RFC 6749 §4.4.2), or as a JSON object (application/json); this body is ${sent || 'of no type'}${instead}`;
}

/** What is wrong with a request the service refuses with 400 (a problem, or Fastify's JSON parser), or null for other errors. */
function malformedRequest(err: FastifyError): string | null {
  if (err instanceof ProblemError) return err.status === 400 ? err.detail : null;
  return err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'The body is not valid JSON' : null;
}

/**
 * Whether the only fault schema validation found is a required parameter left out or sent empty,
 * which RFC 6749 §3.1 counts as omitted (grant_type: checked by the handler, which names it).
 */
function onlyMissingParameters(error: FastifySchemaValidationError | Error): boolean {
  const found = 'validation' in error ? (error.validation as FastifySchemaValidationError[]) : [];
  return found.length > 0 && found.every((e) => e.keyword === 'required' || e.keyword === 'minLength');
}

/** RFC 6749 §3.2: each parameter at most once; a repeated form field arrives as an array. */
function parameterProblem(error: FastifySchemaValidationError | Error): string {
  const first = 'validation' in error ? (error.validation as FastifySchemaValidationError[])[0] : undefined;
  const name = first?.instancePath.split('/')[1];
  if (!name) return 'The request body must be a set of form parameters (application/x-www-form-urlencoded)';
  return `${name} must be given once, as a single string value`;
}

/** The parameters that are single strings: enough to name the client in the refusal's audit entry. */
function stringParameters(body: unknown): TokenRequestBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return {};
  return Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as TokenRequestBody;
}

/**
 * A store the token endpoint needs is down (PostgreSQL: the single-use assertion check): the
 * problem the service would answer, refused here as OAuth's temporarily_unavailable (which client
 * libraries understand), not squeezed into the route's OAuth error shape.
 */
function unavailableProblem(err: FastifyError): ProblemError | null {
  if (isDatabaseUnavailable(err)) return problems.databaseUnavailable();
  return err instanceof ProblemError && err.status === 503 ? err : null;
}
