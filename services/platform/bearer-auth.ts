// Bearer-token authentication for API routes: verifies the platform access token and puts the
// caller on the request. Routes opt in with `config: { auth: true }` or a role list.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessTokenVerifier, Caller } from './access-token.js';
import type { Role } from './registry.js';
import { problems } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    auth?: boolean;
    roles?: Role[];
  }
}

/** The realm named in WWW-Authenticate challenges. */
const BEARER_REALM = 'lgsp';

export function hasAnyRole(caller: Caller, roles: Role[]): boolean {
  return roles.some((r) => caller.roles.includes(r));
}

export const bearerAuth = fp(async function bearerAuth(app: FastifyInstance, opts: { verifier: AccessTokenVerifier }) {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const cfg = req.routeOptions.config;
    if (!cfg?.auth && !cfg?.roles) return;
    const header = req.headers.authorization;
    // Every 401 says which scheme to use (RFC 9110 §11.6.1) and, when a token was sent, that it
    // was refused (RFC 6750 §3); the details stay in the problem body.
    if (!header) {
      reply.header('WWW-Authenticate', `Bearer realm="${BEARER_REALM}"`);
      throw problems.unauthenticated('Send an access token from POST /v1/token as "Authorization: Bearer <token>"');
    }
    // RFC 6750 §3.1: another scheme is no authentication at all (a challenge without an error);
    // a Bearer header without exactly one token in it is a malformed request (400).
    if (!/^Bearer(\s|$)/i.test(header)) {
      reply.header('WWW-Authenticate', `Bearer realm="${BEARER_REALM}"`);
      throw problems.unauthenticated(`This API takes "Authorization: Bearer <token>" (a token from POST /v1/token), not the ${header.split(/\s/, 1)[0].slice(0, 20)} scheme`);
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      reply.header('WWW-Authenticate', `Bearer realm="${BEARER_REALM}", error="invalid_request"`);
      throw problems.badRequest('The Authorization header must be "Bearer" followed by one access token');
    }
    const refused = (detail: string) => {
      reply.header('WWW-Authenticate', `Bearer realm="${BEARER_REALM}", error="invalid_token"`);
      return problems.invalidToken(detail);
    };
    try {
      req.caller = await opts.verifier.verify(match[1]);
    } catch (err) {
      throw refused((err as Error).message);
    }
    if (cfg.roles && !hasAnyRole(req.caller, cfg.roles)) {
      throw problems.forbidden('ROLE_REQUIRED', `This operation requires one of the roles: ${cfg.roles.join(', ')}`);
    }
  });
});
