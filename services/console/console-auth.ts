// Operator authentication for the console. The browser holds an opaque server-side session id
// (console-sessions.ts) in an HttpOnly, SameSite=Strict cookie set at login (Secure and `__Host-` named when served
// over TLS); scripts and tools may send a platform access token as a Bearer header instead. Every API route names the
// roles it needs: `observer` reads, `operator` also acts. A state-changing request made with the
// cookie must carry the X-LGSP-Console header, which a cross-site form cannot send and a
// cross-site script cannot add without a CORS preflight the console never grants.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ClientRefusedError, TokenExpiredError, type AccessTokenVerifier, type Caller } from '../platform/access-token.js';
import { BEARER_CHALLENGE, bearerToken, hasAnyRole, singleAuthorization, tokenRefused } from '../platform/bearer-auth.js';
import { ProblemError, problems } from '../platform/problem.js';
import type { Role } from '../platform/registry.js';
import { ENDED, type ConsoleSessions } from './console-sessions.js';

export const SESSION_COOKIE = 'lgsp_console_session';
/**
 * Over TLS the cookie is `__Host-` prefixed: a browser keeps such a cookie only when the console
 * itself set it (Secure, Path=/, no Domain), so another host of the agency's domain cannot plant
 * one of its own for the console (cookie tossing: Domain=agency.gov.vn) to put an operator in
 * a session it opened, or to hold them out of theirs. Over plain HTTP (a machine's own
 * console) browsers refuse the prefix, and the plain name is used.
 */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/** The cookie the console sets and reads on this request: only the `__Host-` one over TLS. */
export function sessionCookieName(req: FastifyRequest): string {
  return req.protocol === 'https' ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** The session id the request carries in the console's cookie, if any. */
export function sessionIdOf(req: FastifyRequest): string | null {
  return readCookie(req.headers.cookie, sessionCookieName(req));
}
export const CSRF_HEADER = 'x-lgsp-console';
export const READ_ROLES: Role[] = ['operator', 'observer'];
export const WRITE_ROLES: Role[] = ['operator'];

declare module 'fastify' {
  interface FastifyRequest {
    operator: Caller | null;
    /** The caller's access token, forwarded to the audit service and the runner. */
    accessToken: string | null;
    /** The console session the request came with (cookie), if any. */
    consoleSession: string | null;
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // A value that does not decode is no session of ours (401), not a server error.
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

export function setSessionCookie(reply: FastifyReply, req: FastifyRequest, sessionId: string, maxAgeSeconds: number): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('Set-Cookie', `${sessionCookieName(req)}=${encodeURIComponent(sessionId)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`);
}

export function clearSessionCookie(reply: FastifyReply, req: FastifyRequest): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('Set-Cookie', `${sessionCookieName(req)}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`);
}

/** The caller of a request, whether or not the route requires one; null when anonymous or invalid. */
export async function optionalCaller(req: FastifyRequest, verifier: AccessTokenVerifier, sessions: ConsoleSessions): Promise<{ caller: Caller; token: string } | null> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer) {
    const id = sessionIdOf(req);
    const session = id ? sessions.get(id) : null;
    if (!session) return null;
    try {
      return { caller: await verifier.verify(session.token), token: session.token };
    } catch {
      return null;
    }
  }
  const token = bearer;
  try {
    return { caller: await verifier.verify(token), token };
  } catch {
    return null;
  }
}

/**
 * What the caller can do about a refused token: log in again (a script sending a Bearer token:
 * ask the token endpoint for a new one), unless the registry refuses the client itself
 * (disabled, removed), where a login or a new token is refused too (CLIENT_DISABLED) and only the
 * registry's administrator can help.
 */
function whatNext(err: unknown, via: 'session' | 'bearer'): string {
  if (err instanceof ClientRefusedError) return `: ${via === 'session' ? 'a new login with' : 'a new token for'} this client is refused until the registry lists it as enabled again`;
  return via === 'session' ? '; log in again' : '; request a new access token (POST /v1/token on the gateway)';
}

/**
 * The 401 for a session that has ended in the ordinary way (expired, logged out, replaced by a
 * later login): SESSION_ENDED, which the page answers with "session expired, log in again". Every
 * other refusal of a session (its client disabled, its registry entry changed) stays
 * INVALID_TOKEN, whose detail the page shows as it is.
 */
function sessionEnded(detail: string): ProblemError {
  return new ProblemError(401, 'SESSION_ENDED', 'Console session ended', detail);
}

export const consoleAuth = fp(async function consoleAuth(app: FastifyInstance, opts: { verifier: AccessTokenVerifier; sessions: ConsoleSessions }) {
  app.decorateRequest('operator', null);
  app.decorateRequest('accessToken', null);
  app.decorateRequest('consoleSession', null);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const roles = req.routeOptions.config?.roles;
    if (!roles) return;
    const bearerHeader = singleAuthorization(req, reply);
    let caller: Caller;
    let token: string;
    let fromCookie = false;
    if (bearerHeader) {
      token = bearerToken(bearerHeader, reply);
      try {
        caller = await opts.verifier.verify(token);
      } catch (err) {
        throw tokenRefused(reply, `${(err as Error).message}${whatNext(err, 'bearer')}`);
      }
    } else {
      // A 401 names the scheme a tool can use (RFC 9110 §11.6.1); the browser logs in instead.
      const id = sessionIdOf(req);
      if (!id) {
        reply.header('WWW-Authenticate', BEARER_CHALLENGE);
        throw problems.unauthenticated('Log in to the console, or send an operator access token from POST /v1/token as "Authorization: Bearer <token>"');
      }
      const session = opts.sessions.get(id);
      if (!session) {
        reply.header('WWW-Authenticate', BEARER_CHALLENGE);
        // The reason it ended, when it ended lately (a refused token stays refused, with its detail).
        const end = opts.sessions.endedBecause(id) ?? ENDED;
        throw end.code === 'INVALID_TOKEN' ? problems.invalidToken(end.detail) : sessionEnded(end.detail);
      }
      // The session's token is checked again on every request (cached: no signature check), so
      // a session whose client was disabled in the registry since login ends at once.
      try {
        caller = await opts.verifier.verify(session.token);
      } catch (err) {
        const detail = `Your console session has ended (${(err as Error).message})${whatNext(err, 'session')}`;
        const expired = err instanceof TokenExpiredError;
        opts.sessions.end(id, { code: expired ? 'SESSION_ENDED' : 'INVALID_TOKEN', detail });
        clearSessionCookie(reply, req);
        reply.header('WWW-Authenticate', BEARER_CHALLENGE);
        throw expired ? sessionEnded(detail) : problems.invalidToken(detail);
      }
      // SameSite=Strict still sends the cookie from every other origin of the same site (another
      // port of the host, another host of the agency's domain), and a GET can cost too: a KPI
      // export is audited and runs a long query, a live stream holds a connection. The browser
      // says where a request comes from (Fetch Metadata, sent by every current browser); only the
      // console's own page (same-origin) or the operator (none: typed, bookmarked) may use the
      // cookie. Tools without the header use Bearer tokens and are not concerned.
      const site = req.headers['sec-fetch-site'];
      if (site === 'same-site' || site === 'cross-site') {
        throw problems.forbidden('CROSS_SITE_REQUEST', `The console's session cookie is not accepted on requests from another origin (Sec-Fetch-Site: ${site})`);
      }
      token = session.token;
      fromCookie = true;
      req.consoleSession = id;
    }
    if (!hasAnyRole(caller, roles)) throw problems.forbidden('ROLE_REQUIRED', `This operation requires one of the roles: ${roles.join(', ')}`);
    if (fromCookie && req.method !== 'GET' && req.method !== 'HEAD' && req.headers[CSRF_HEADER] !== '1') {
      throw problems.forbidden('CONSOLE_HEADER_REQUIRED', `Requests that change state must send the header ${CSRF_HEADER}: 1`);
    }
    req.operator = caller;
    req.accessToken = token;
  });
});
