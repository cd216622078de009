// JWKS and RFC 8414 authorization-server metadata, so standard OAuth2 client libraries work.
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../gateway-context.js';
import { ASSERTION_ALGORITHMS } from '../client-authentication.js';
import { isEncryptionPurpose, KEY_PURPOSES, type KeyPurpose } from '../../platform/key-purposes.js';
import { okResponse, problemResponsesWithCodes } from '../../platform/openapi-shapes.js';

export async function wellKnownRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  // Every key that still verifies, each with its purpose and owning service (lgsp_purpose,
  // lgsp_service). A receiver of deliveries asks for ?purpose=delivery, so a record or token key
  // (held by other services) can never pass for a delivery signature. Signature keys only: the
  // payload-encryption keys are for the bus services' own use (no agency seals for them).
  // ?include=superseded adds the keys past their grace period, which verify nothing live any more
  // but still verify the audit chain: `lgsp audit verify --jwks` with the live set alone called
  // every entry signed before a rotation more than LGSP_KEY_GRACE_SECONDS ago tampered. Never the
  // default: a receiver (jose's createRemoteJWKSet) does not read lgsp_superseded_at.
  app.get<{ Querystring: { purpose?: KeyPurpose; include?: 'superseded' } }>(
    '/.well-known/jwks.json',
    {
      config: { conditional: true },
      schema: {
        tags: ['auth'],
        summary: 'Platform public keys, with the purpose and owner of each',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            purpose: { enum: KEY_PURPOSES.filter((p) => !isEncryptionPurpose(p)) },
            include: { enum: ['superseded'], description: 'Also the keys past their grace period (marked lgsp_superseded_at): every key ever published, to verify the audit chain (lgsp audit verify --jwks); not for verifying deliveries' },
          },
        },
        response: { ...okResponse('A JWK Set (RFC 7517): `{keys: [{kty, kid, alg, use, lgsp_purpose, lgsp_service, lgsp_superseded_at?, …}]}`'), ...problemResponsesWithCodes({ 400: ['BAD_REQUEST', 'VALIDATION_FAILED'] }) },
      },
    },
    async (req, reply) => reply.header('Cache-Control', 'public, max-age=60').send(ctx.publicKeys.jwks({ purpose: req.query.purpose, archive: req.query.include === 'superseded' })),
  );

  app.get('/.well-known/oauth-authorization-server', { config: { conditional: true }, schema: { tags: ['auth'], summary: 'OAuth 2.0 authorization server metadata (RFC 8414)', response: okResponse('`{issuer, token_endpoint, jwks_uri, grant_types_supported, token_endpoint_auth_methods_supported, …}`') } }, async () => {
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
