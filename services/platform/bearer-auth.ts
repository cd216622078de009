// Bearer-token authentication for API routes: verifies the platform access token and puts the
// caller on the request. Routes opt in with `config: { auth: true }` or a role list.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessTokenVerifier, Caller } from './access-token.js';
import type { Role } from './registry.js';
import { problems } from './problem.js';
import { headerLineCount } from './header-lines.js';

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
/** Every 401 says which scheme to use (RFC 9110 §11.6.1). */
export const BEARER_CHALLENGE = `Bearer realm="${BEARER_REALM}"`;
/** RFC 6750 §2.1: the credential is one token68 (no spaces, commas or quotes in it). */
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The token of an Authorization header, or the refusal RFC 6750 §3.1 asks for: another scheme
 * is no authentication at all (401 with a bare challenge); a Bearer header without exactly one
 * token in it is a malformed request (400, error="invalid_request"). Sets the challenge on `reply`.
 */
export function bearerToken(header: string, reply: FastifyReply): string {
  if (!/^Bearer(\s|$)/i.test(header)) {
    reply.header('WWW-Authenticate', BEARER_CHALLENGE);
    throw problems.unauthenticated(`This API takes "Authorization: Bearer <token>" (a token from POST /v1/token), not the ${header.split(/\s/, 1)[0].slice(0, 20)} scheme`);
  }
  const match = BEARER_HEADER.exec(header);
  if (!match) {
    reply.header('WWW-Authenticate', `${BEARER_CHALLENGE}, error="invalid_request"`);
    throw problems.badRequest('The Authorization header must be "Bearer" followed by one access token');
  }
  return match[1];
}

/** How many Authorization header lines the request carried (Node keeps the first of several: header-lines.ts). */
export function authorizationHeaderCount(req: FastifyRequest): number {
  return headerLineCount(req, 'authorization');
}

/**
 * The Authorization header of a request that must carry exactly one (RFC 6750 §3.1: more than one
 * credential is a malformed request, 400 invalid_request); undefined when there is none.
 */
export function singleAuthorization(req: FastifyRequest, reply: FastifyReply): string | undefined {
  if (authorizationHeaderCount(req) > 1) {
    reply.header('WWW-Authenticate', `${BEARER_CHALLENGE}, error="invalid_request"`);
    throw problems.badRequest('Send the Authorization header once: this request carries several');
  }
  return req.headers.authorization;
}

/** The 401 for a token that was sent and refused (RFC 6750 §3: error="invalid_token"); details stay in the body. */
export function tokenRefused(reply: FastifyReply, detail: string): Error {
  reply.header('WWW-Authenticate', `${BEARER_CHALLENGE}, error="invalid_token"`);
  return problems.invalidToken(detail);
}

export function hasAnyRole(caller: Caller, roles: Role[]): boolean {
  return roles.some((r) => caller.roles.includes(r));
}

export const bearerAuth = fp(async function bearerAuth(app: FastifyInstance, opts: { verifier: AccessTokenVerifier }) {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const cfg = req.routeOptions.config;
    if (!cfg?.auth && !cfg?.roles) return;
    const header = singleAuthorization(req, reply);
    if (!header) {
      reply.header('WWW-Authenticate', BEARER_CHALLENGE);
      throw problems.unauthenticated('Send an access token from POST /v1/token as "Authorization: Bearer <token>"');
    }
    const token = bearerToken(header, reply);
    try {
      req.caller = await opts.verifier.verify(token);
    } catch (err) {
      throw tokenRefused(reply, (err as Error).message);
    }
    if (cfg.roles && !hasAnyRole(req.caller, cfg.roles)) {
      throw problems.forbidden('ROLE_REQUIRED', `This operation requires one of the roles: ${cfg.roles.join(', ')}`);
    }
  });
});
