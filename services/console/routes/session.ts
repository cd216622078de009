// Login and logout. The login form's client id and secret are exchanged at the gateway's token
// endpoint (client_secret_basic, RFC 6749 §2.3.1) for a platform access token; only tokens with
// the operator or observer role open a console session. The secret is used once and never
// stored or logged; the token stays in the console's server-side session (the cookie holds only
// the session id) until it expires or the operator logs out.
import type { FastifyInstance } from 'fastify';
import { hasAnyRole } from '../../platform/bearer-auth.js';
import { ProblemError, problems } from '../../platform/problem.js';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES, clearSessionCookie, optionalCaller, sessionIdOf, setSessionCookie } from '../console-auth.js';

interface LoginBody {
  clientId: string;
  clientSecret: string;
}

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/**
 * Logins a minute from one address, whatever the client ids: well under the gateway's token
 * limit per address (LGSP_TOKEN_RATE_LIMIT_PER_MINUTE, 600), which every console login shares,
 * so that one address trying many client ids cannot hold all operators out.
 */
const LOGINS_PER_ADDRESS_PER_MINUTE = 60;

export async function sessionRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  const perAddress = app.createRateLimit({ max: LOGINS_PER_ADDRESS_PER_MINUTE, timeWindow: 60_000, keyGenerator: (req) => `login from ${req.ip}` });
  app.post<{ Body: LoginBody }>('/v1/console/session', {
    // 20 attempts a minute per address and client id: operators behind one proxy address are
    // not locked out by someone else's failed logins (counted once the body names the client).
    config: { rateLimit: { max: 20, timeWindow: 60_000, hook: 'preHandler', keyGenerator: (req) => `${req.ip} ${(req.body as LoginBody | undefined)?.clientId ?? ''}` } },
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['clientId', 'clientSecret'],
        properties: {
          clientId: { type: 'string', minLength: 1, maxLength: 200 },
          clientSecret: { type: 'string', minLength: 1, maxLength: 500 },
        },
      },
    },
  }, async (req, reply) => {
    const fromAddress = await perAddress(req);
    if (!fromAddress.isAllowed && fromAddress.isExceeded) throw problems.rateLimited(Math.max(1, fromAddress.ttlInSeconds));
    const { clientId, clientSecret } = req.body;
    // Every gateway is a replica with the one issuer: with several listed (LGSP_GATEWAY_URL,
    // comma-separated), one that does not answer is passed over for the next, so operators can
    // still log in while a gateway is down. An answer, even a refusal, is final.
    const gateways = ctx.upstream.gateway.split(',').map((u) => u.trim()).filter(Boolean);
    let response: Response | undefined;
    const unanswered: string[] = [];
    for (const gateway of gateways) {
      try {
        response = await fetch(`${gateway.replace(/\/+$/, '')}/v1/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`,
            // The operator's address, for a gateway that trusts the console as a proxy
            // (LGSP_TRUSTED_PROXIES): its per-address token limit then counts operators one by
            // one instead of all console logins together. A gateway that does not ignores it.
            'x-forwarded-for': req.ip,
          },
          body: 'grant_type=client_credentials',
          signal: AbortSignal.timeout(10_000),
        });
        break;
      } catch (err) {
        unanswered.push(gateways.length > 1 ? `${gateway}: ${(err as Error).message}` : (err as Error).message);
      }
    }
    if (!response) throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The token endpoint did not answer: ${unanswered.join('; ')}`);
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    // The gateway names a disabled client only once its secret was right, so passing that on
    // tells an operator whose system was disabled why, and a guesser nothing.
    if (response.status === 401 && /\bis disabled in the registry\b/.test(body.error_description ?? '')) {
      throw new ProblemError(401, 'CLIENT_DISABLED', 'Login failed', body.error_description!);
    }
    if (response.status === 401 || body.error === 'invalid_client') {
      throw new ProblemError(401, 'LOGIN_FAILED', 'Login failed', 'Unknown client id or wrong secret');
    }
    // The gateway limits token requests per network address, and every console login comes
    // from the console's: say so, with its Retry-After, rather than call the gateway broken.
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 60;
      throw new ProblemError(429, 'RATE_LIMITED', 'Too many requests', `The gateway's token endpoint refuses more logins from the console for now (its per-address limit, LGSP_TOKEN_RATE_LIMIT_PER_MINUTE); retry in ${seconds} s`, { retryAfterSeconds: seconds });
    }
    if (!response.ok || !body.access_token) {
      throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The token endpoint answered ${response.status}${body.error ? ` (${body.error})` : ''}`);
    }
    const caller = await ctx.tokenVerifier.verify(body.access_token).catch((err: Error) => {
      throw new ProblemError(502, 'UPSTREAM_UNAVAILABLE', 'Bad gateway', `The token endpoint issued a token the console cannot verify: ${err.message}`);
    });
    if (!hasAnyRole(caller, READ_ROLES)) {
      throw problems.forbidden('ROLE_REQUIRED', 'The console is for operators and observers; this client has neither role');
    }
    await ctx.audit.record(caller, 'login');
    // The browser's earlier session, if it still had one, ends here rather than stay usable
    // until its token expires: its id is replaced in the cookie, and whoever logged in before
    // (another operator at a shared desk) keeps no live stream or copy of it that still works.
    const earlier = sessionIdOf(req);
    if (earlier) ctx.sessions.end(earlier, { code: 'SESSION_ENDED', detail: 'A later login in this browser ended this console session; log in again' });
    const expiresIn = body.expires_in ?? 300;
    const session = ctx.sessions.create(caller, body.access_token, expiresIn);
    setSessionCookie(reply, req, session.id, expiresIn);
    reply.header('cache-control', 'no-store');
    return { clientId: caller.clientId, member: caller.member, roles: caller.roles, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() };
  });

  // Answers 200 either way: the page asks on load, and an anonymous visitor is not an error.
  app.get('/v1/console/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const current = await optionalCaller(req, ctx.tokenVerifier, ctx.sessions);
    if (!current || !hasAnyRole(current.caller, READ_ROLES)) {
      // Why the browser's session ended, if it did lately: the page says that, not "expired".
      const id = sessionIdOf(req);
      const ended = id ? ctx.sessions.endedBecause(id) : null;
      return ended ? { authenticated: false, ended } : { authenticated: false };
    }
    const { caller } = current;
    return { authenticated: true, clientId: caller.clientId, member: caller.member, roles: caller.roles };
  });

  app.delete('/v1/console/session', { config: { roles: READ_ROLES } }, async (req, reply) => {
    await ctx.audit.record(req.operator!, 'logout');
    // Ends the server-side session: the cookie is dead even if a copy of it survives, and the
    // session's live streams close.
    const id = sessionIdOf(req);
    if (id) ctx.sessions.end(id, { code: 'SESSION_ENDED', detail: 'You logged out of the console' });
    clearSessionCookie(reply, req);
    return reply.code(204).send();
  });
}
