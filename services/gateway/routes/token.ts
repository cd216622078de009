// POST /v1/token — OAuth2 client credentials grant (RFC 6749 §4.4).
import type { FastifyInstance } from 'fastify';
import { issueAccessToken } from '../../platform/access-token.js';
import type { GatewayContext } from '../gateway-context.js';
import { claimedClientId, OAuthError, type TokenRequestBody } from '../client-authentication.js';
import { textProblem } from '../../platform/text-guard.js';

export async function tokenRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.post<{ Body: TokenRequestBody }>('/v1/token', {
    // Per network address and counted on arrival, before the body is read or parsed: a flood of
    // token requests is refused at the cost of a map lookup. (Other routes are limited per
    // authenticated client, after authentication.)
    config: { rateLimit: { hook: 'onRequest', max: ctx.config.tokenRateLimitPerMinute, timeWindow: 60_000, keyGenerator: (req) => req.ip }, ownTextCheck: true },
    schema: {
      tags: ['auth'],
      summary: 'Obtain an access token (client credentials; private_key_jwt or client_secret_basic)',
      consumes: ['application/x-www-form-urlencoded'],
      response: {
        200: {
          type: 'object',
          properties: { access_token: { type: 'string' }, token_type: { const: 'Bearer' }, expires_in: { type: 'integer' } },
        },
      },
    },
  }, async (req, reply) => {
    reply.header('Cache-Control', 'no-store');
    try {
      const body = (req.body ?? {}) as TokenRequestBody;
      const textError = textProblem(body);
      if (textError) throw new OAuthError('invalid_request', `${textError.field} ${textError.message}`);
      if (body.grant_type !== 'client_credentials') {
        throw new OAuthError(body.grant_type ? 'unsupported_grant_type' : 'invalid_request', 'grant_type must be client_credentials');
      }
      const client = await ctx.clientAuth.authenticate(body, req.headers.authorization);
      if (body.scope !== undefined && body.scope.trim() !== '') {
        throw new OAuthError('invalid_scope', 'Scopes are not used: access is governed by the registry access rights');
      }
      const roles = client.roles && client.roles.length > 0 ? client.roles : ['agency' as const];
      const token = await issueAccessToken(ctx.signingKeys.token.signingKey, ctx.config.issuer, { clientId: client.clientId, member: client.member, roles }, ctx.config.tokenTtlSeconds);
      return { access_token: token, token_type: 'Bearer', expires_in: ctx.config.tokenTtlSeconds };
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      ctx.audit.tokenRefusal(claimedClientId((req.body ?? {}) as TokenRequestBody, req.headers.authorization), req.ip, err.description);
      if (err.status === 503) reply.header('Retry-After', '1');
      if (err.status === 401 && /^Basic/i.test(req.headers.authorization ?? '')) reply.header('WWW-Authenticate', 'Basic realm="lgsp"');
      return reply.code(err.status).send({ error: err.error, error_description: err.description });
    }
  });
}
