// The one-stop-shop connector: dossiers between the province's one-stop-shop systems (Một cửa
// điện tử) and the National Public Service Portal (Cổng Dịch vụ công quốc gia, DVCQG).
//   dossier.sync      → DongBoHoSoMC          (one-stop system → portal)
//   dossier.progress  → CapNhatTienDoHoSoMC   (one-stop system → portal)
//   dossier.lookup    → TraCuuHoSo, answered with ctx.reply()   (request/reply)
//   dossier.submitted → signed delivery to the responsible agency's one-stop system (portal → province)
// Where the portal is and which account the province uses come from the connector's
// configuration (validated against configSchema when the runner loads it), so pointing the
// connector at the real portal instead of the mock is a configuration change only.
import { defineConnector, PermanentError, type ConnectorMetrics, type ConnectorSecrets } from '@lgsp/sdk';
import { PortalClient } from './portal-client.js';
import { deliverSubmitted, lookupDossier, reportProgress, syncDossier, type HandlerDeps } from './dossier-handlers.js';

export interface OneStopShopConfig {
  /** Base URL of the portal's integration API (adapter URL). */
  portalUrl: string;
  loginPath: string;
  integrationPath: string;
  sharePath: string;
  username: string;
  requestTimeoutMs: number;
  /** A dossier.lookup older than this is no longer answered (its requester gave up). */
  lookupMaxAgeMs: number;
  /** A portal call safe to repeat that fails in transit is asked again at once within this window. */
  quickRetryWindowMs: number;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['portalUrl', 'username'],
  properties: {
    portalUrl: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'Base URL of the portal integration API (the mock portal under npm start)' },
    loginPath: { type: 'string', pattern: '^/', default: '/api/auth/login', description: 'Session login: {username, password} → {error_code, session}' },
    integrationPath: { type: 'string', pattern: '^/', default: '/api/integration', description: 'Endpoint of DongBoHoSoMC and CapNhatTienDoHoSoMC' },
    sharePath: { type: 'string', pattern: '^/', default: '/api/share', description: 'Endpoint of TraCuuHoSo and LayDanhSachTTHC' },
    username: { type: 'string', minLength: 1, description: "The province's portal account; its password is the secret portalPassword" },
    requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000, description: 'How long one portal call may take' },
    lookupMaxAgeMs: { type: 'integer', minimum: 1000, default: 60_000, description: 'A dossier.lookup older than this is no longer sent to the portal (its requester gave up)' },
    quickRetryWindowMs: { type: 'integer', minimum: 0, maximum: 30_000, default: 2000, description: 'A portal call that is safe to repeat (TraCuuHoSo, an update by DongBoHoSoMC, CapNhatTienDoHoSoMC) and fails in transit (HTTP 5xx, lost answer, refused re-login) is asked again at once for this long before the bus retries the message on its backoff (not while the last 8 portal calls all failed: one call per attempt then); 0 turns it off' },
  },
};

// A connector definition is one module-level object; a process may run it under several
// configurations (e.g. tests with several buses), so sessions are kept per configuration.
const instances = new Map<string, HandlerDeps & { secrets: ConnectorSecrets }>();

function depsFor(ctx: { config: OneStopShopConfig; secrets: ConnectorSecrets; metrics: ConnectorMetrics }): HandlerDeps {
  const { config } = ctx;
  const key = JSON.stringify(config);
  let deps = instances.get(key);
  if (deps) {
    // The newest secrets: a connector restarted after a password rotation logs in with the new one.
    deps.secrets = ctx.secrets;
  } else {
    const created: HandlerDeps & { secrets: ConnectorSecrets } = {
      secrets: ctx.secrets,
      client: new PortalClient(config, () => created.secrets.get('portalPassword'), ctx.metrics),
      lookupMaxAgeMs: config.lookupMaxAgeMs,
      quickRetryWindowMs: config.quickRetryWindowMs,
      requestTimeoutMs: config.requestTimeoutMs,
      failureStreak: { calls: 0 },
    };
    instances.set(key, (deps = created));
  }
  return deps;
}

export default defineConnector<OneStopShopConfig>({
  name: 'one-stop-shop',
  description: 'Administrative-procedure dossiers between one-stop-shop systems and the National Public Service Portal (DVCQG)',
  configSchema,
  secrets: {
    portalPassword: { description: "Password of the province's portal account (LGSP_SECRET_ONE_STOP_SHOP_PORTAL_PASSWORD or ..._FILE)" },
  },
  async start({ config, log }) {
    // Origin and path only: a URL written with `user:password@` must not put the password in the log
    // (the password belongs in the portalPassword secret).
    const portal = new URL(config.portalUrl);
    log.info({ portalUrl: `${portal.origin}${portal.pathname}`, username: config.username }, 'one-stop-shop connector ready');
  },
  async health() {
    return { ok: true, detail: `${instances.size} portal configuration(s)` };
  },
  async handle(message, ctx) {
    const deps = depsFor(ctx);
    switch (message.type) {
      case 'dossier.sync':
        return syncDossier(message, ctx, deps);
      case 'dossier.progress':
        return reportProgress(message, ctx, deps);
      case 'dossier.lookup':
        return lookupDossier(message, ctx, deps);
      case 'dossier.submitted':
        return deliverSubmitted(message, ctx, deps);
      default:
        throw new PermanentError(`the one-stop-shop connector does not handle ${message.type}`);
    }
  },
});
