// The live flow view: a server-sent event stream, plus the same figures as one JSON snapshot.
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES } from '../console-auth.js';
import { hasAnyRole } from '../../platform/bearer-auth.js';
import { REGISTRY_CHECK_INTERVAL_MS } from '../../platform/live-registry.js';

/** How often an open live stream checks that its caller may still read. */
const LIVE_RECHECK_MS = REGISTRY_CHECK_INTERVAL_MS;

export async function liveRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get('/v1/console/live', { config: { roles: READ_ROLES } }, async (req, reply) => {
    ctx.live.attach(reply);
    // A stream opened with a console session ends with it (logout or expiry); one opened with
    // a Bearer token ends when the token expires: a stream must not outlive the right to open it.
    if (req.consoleSession) {
      const stop = ctx.sessions.onEnd(req.consoleSession, () => reply.raw.end());
      reply.raw.on('close', stop);
    } else if (req.accessToken) {
      // Platform tokens always carry exp and live minutes; without one the stream ends at once,
      // and the delay is kept under setTimeout's limit (about 24.8 days).
      const exp = decodeJwt(req.accessToken).exp;
      const timer = setTimeout(() => reply.raw.end(), exp === undefined ? 0 : Math.min(2 ** 31 - 1, Math.max(0, exp * 1000 - Date.now())));
      timer.unref();
      reply.raw.on('close', () => clearTimeout(timer));
    }
    // Nor the registry's leave: a client disabled or removed, or its operator and observer roles
    // taken away, since the stream opened loses it within seconds (its token is checked again as
    // every request's is; cached, no signature check), not when its token expires.
    const token = req.accessToken;
    if (token) {
      const recheck = setInterval(() => {
        ctx.tokenVerifier.verify(token).then(
          (caller) => {
            if (!hasAnyRole(caller, READ_ROLES)) reply.raw.end();
          },
          () => reply.raw.end(),
        );
      }, LIVE_RECHECK_MS);
      recheck.unref();
      reply.raw.on('close', () => clearInterval(recheck));
    }
  });

  app.get('/v1/console/overview', { config: { roles: READ_ROLES } }, async () => {
    const size = await ctx.store.messages.size();
    return {
      ...ctx.monitor.snapshot(),
      lag: ctx.lag.lags,
      recent: (await ctx.store.messages.search({ limit: 20 })).items,
      deadLetterDepth: Object.fromEntries(await ctx.store.deadLetters.depthByConnector()),
      // Exact on a small index, PostgreSQL's estimate on a large one (message-index.ts size()).
      indexedMessages: size.messages,
      indexedMessagesEstimated: size.estimated,
    };
  });
}
