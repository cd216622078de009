// The one-stop-shop connector: dossiers between the province's one-stop-shop systems (Một cửa
// điện tử) and the National Public Service Portal (Cổng Dịch vụ công quốc gia, DVCQG).
//   dossier.sync      → DongBoHoSoMC          (one-stop system → portal)
//   dossier.progress  → CapNhatTienDoHoSoMC   (one-stop system → portal)
//   dossier.lookup    → TraCuuHoSo, answered with ctx.reply()   (request/reply)
//   dossier.submitted → signed delivery to the responsible agency's one-stop system (portal → province)
// Where the portal is and which account the province uses come from the connector's
// configuration (validated against configSchema when the runner loads it), so pointing the
// connector at the real portal instead of the mock is a configuration change only.
import { defineConnector, PermanentError } from '../sdk/index.js';
import { PortalClient } from './portal-client.js';
import { deliverSubmitted, lookupDossier, reportProgress, syncDossier, type HandlerDeps } from './dossier-handlers.js';

export interface OneStopShopConfig {
  /** Base URL of the portal's integration API (adapter URL). */
  portalUrl: string;
  loginPath: string;
  integrationPath: string;
  sharePath: string;
  username: string;
  /** The account's password, or the name of an environment variable holding it (preferred: keeps it out of files). */
  password?: string;
  passwordEnv?: string;
  requestTimeoutMs: number;
  /** A dossier.lookup older than this is no longer answered (its requester gave up). */
  lookupMaxAgeMs: number;
  /** How many dossiers the connector remembers as present at the portal (saves a lookup per sync). */
  knownDossiersCacheSize: number;
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['portalUrl', 'username'],
  oneOf: [{ required: ['password'] }, { required: ['passwordEnv'] }],
  properties: {
    portalUrl: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'Base URL of the portal integration API' },
    loginPath: { type: 'string', pattern: '^/', default: '/api/auth/login' },
    integrationPath: { type: 'string', pattern: '^/', default: '/api/integration' },
    sharePath: { type: 'string', pattern: '^/', default: '/api/share' },
    username: { type: 'string', minLength: 1 },
    password: { type: 'string', minLength: 1 },
    passwordEnv: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
    requestTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000 },
    lookupMaxAgeMs: { type: 'integer', minimum: 1000, default: 60_000 },
    knownDossiersCacheSize: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 100_000 },
  },
};

// A connector definition is one module-level object; a process may run it under several
// configurations (e.g. tests with several buses), so sessions are kept per configuration.
const instances = new Map<string, HandlerDeps>();

function depsFor(config: OneStopShopConfig): HandlerDeps {
  const key = JSON.stringify(config);
  let deps = instances.get(key);
  if (!deps) {
    const password = () => {
      const value = config.password ?? process.env[config.passwordEnv ?? ''];
      if (!value) throw new PermanentError(`the portal password is not set (environment variable ${config.passwordEnv})`);
      return value;
    };
    deps = {
      client: new PortalClient(config, password),
      known: new Map(),
      knownLimit: config.knownDossiersCacheSize,
      lookupMaxAgeMs: config.lookupMaxAgeMs,
      requestTimeoutMs: config.requestTimeoutMs,
    };
    instances.set(key, deps);
  }
  return deps;
}

/** The portal client serving a configuration (tests and operators inspect its logins). */
export function portalClientFor(config: OneStopShopConfig): PortalClient {
  return depsFor(config).client;
}

export default defineConnector<OneStopShopConfig>({
  name: 'one-stop-shop',
  description: 'Administrative-procedure dossiers between one-stop-shop systems and the National Public Service Portal (DVCQG)',
  configSchema,
  async start({ config, log }) {
    if (config.passwordEnv && !process.env[config.passwordEnv]) log.warn({ passwordEnv: config.passwordEnv }, 'the portal password variable is not set; portal calls will fail');
  },
  async health() {
    return { ok: true, detail: `${instances.size} portal configuration(s)` };
  },
  async handle(message, ctx) {
    const deps = depsFor(ctx.config);
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
