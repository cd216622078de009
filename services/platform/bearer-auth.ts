// Bearer-token authentication for API routes: verifies the platform access token and puts the
// caller on the request. Routes opt in with `config: { auth: true }` or a role list.
import type { FastifyInstance, FastifyRequest } from 'fastify';
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

export function hasAnyRole(caller: Caller, roles: Role[]): boolean {
  return roles.some((r) => caller.roles.includes(r));
}

export const bearerAuth = fp(async function bearerAuth(app: FastifyInstance, opts: { verifier: AccessTokenVerifier }) {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const cfg = req.routeOptions.config;
    if (!cfg?.auth && !cfg?.roles) return;
    const header = req.headers.authorization;
    if (!header) throw problems.unauthenticated('Send an access token from POST /v1/token as "Authorization: Bearer <token>"');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw problems.invalidToken('The Authorization header must use the Bearer scheme');
    try {
      req.caller = await opts.verifier.verify(match[1]);
    } catch (err) {
      throw problems.invalidToken((err as Error).message);
    }
    if (cfg.roles && !hasAnyRole(req.caller, cfg.roles)) {
      throw problems.forbidden('ROLE_REQUIRED', `This operation requires one of the roles: ${cfg.roles.join(', ')}`);
    }
  });
});
