// JWKS and RFC 8414 authorization-server metadata, so standard OAuth2 client libraries work.
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../gateway-context.js';
import { ASSERTION_ALGORITHMS } from '../client-authentication.js';

export async function wellKnownRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.get('/.well-known/jwks.json', { schema: { tags: ['auth'], summary: 'Platform public keys' } }, async (_req, reply) =>
    reply.header('Cache-Control', 'public, max-age=60').send(ctx.keystore.publicJwks()),
  );

  app.get('/.well-known/oauth-authorization-server', { schema: { tags: ['auth'], summary: 'OAuth 2.0 authorization server metadata (RFC 8414)' } }, async () => {
    const issuer = ctx.config.issuer;
    return {
      issuer,
      token_endpoint: `${issuer}/v1/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'],
      token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
      response_types_supported: ['token'],
      service_documentation: `${issuer}/docs`,
    };
  });
}
