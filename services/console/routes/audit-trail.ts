// Audit trail search and chain integrity, from the audit service's own API (which verifies the
// operator's token and role again). Its problems (bad filters) pass through unchanged.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from '../console-context.js';
import { READ_ROLES } from '../console-auth.js';
import { AUDIT_LIVENESS, callUpstream, relay } from '../upstream.js';
import { instant, nfcFilters } from './query-schemas.js';

export async function auditTrailRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.get<{ Querystring: Record<string, string | string[]> }>('/v1/console/audit/events', { config: { roles: READ_ROLES } }, async (req, reply) => {
    // Time bounds read as on the console's other searches (a bare date: the start of that day in
    // Vietnam), not as the audit API reads them (UTC), so one filter means one window everywhere.
    // Anything else (an empty or repeated filter too) goes as written, for the audit API to judge,
    // but in NFC like the text it is compared with (the audit API compares it as it comes).
    const query: Record<string, string | string[]> = nfcFilters({ ...req.query });
    for (const bound of ['from', 'to'] as const) {
      const value = query[bound];
      const at = typeof value === 'string' ? instant(value, bound) : undefined;
      if (at !== undefined) query[bound] = at;
    }
    const r = await callUpstream(ctx.upstream.audit, 'audit service', '/v1/audit/events', { token: req.accessToken!, query, liveness: AUDIT_LIVENESS });
    return relay(req, reply, r);
  });

  app.get('/v1/console/audit/integrity', { config: { roles: READ_ROLES } }, async (req, reply) => {
    const r = await callUpstream(ctx.upstream.audit, 'audit service', '/v1/audit/integrity', {
      token: req.accessToken!,
      // A long chain may take its 120 s to verify; a hung audit service is said within seconds.
      timeoutMs: 120_000,
      liveness: AUDIT_LIVENESS,
    });
    if (r.status !== 200) return relay(req, reply, r);
    const body = r.body as { lastCheckpoint?: { signedAt?: string } | null };
    const signedAt = body.lastCheckpoint?.signedAt;
    return { ...body, checkpointAgeSeconds: signedAt ? Math.max(0, Math.round((Date.now() - Date.parse(signedAt)) / 1000)) : null };
  });
}
