// `npm start` wiring for the dossier demo: a portal account for the province (random password,
// generated once into the data dir, never committed), the one-stop-shop connector's
// configuration pointing at the mock portal, the account's password as the connector's declared
// secret (an environment variable of the runner, never written in the configuration), and the
// mock portal's own settings, including the dev credentials it uses to hand online dossiers to
// the bus as system `dvcqg-portal`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stackConnectorsConfigFile } from '../platform/config.js';
import { keepPrivate, writePrivateFile } from '../platform/private-file.js';

/** Where the runner's secrets mechanism looks for the connector's `portalPassword` secret. */
export const PORTAL_PASSWORD_ENV = 'LGSP_SECRET_ONE_STOP_SHOP_PORTAL_PASSWORD';

export interface DossierDemoSetup {
  /** Environment of the mock portal process. */
  portalEnv: Record<string, string>;
  /** Environment added to the runner process. */
  runnerEnv: Record<string, string>;
}

export function prepareDossierDemo(opts: {
  dataDir: string;
  portalUrl: string;
  gatewayUrl: string;
  clientsDir: string;
  /** A connector configuration file the user chose (LGSP_CONNECTORS_CONFIG): used as it is, never rewritten. */
  userConnectorsConfig?: string;
}): DossierDemoSetup {
  const accountFile = join(opts.dataDir, 'mock-portal-account.json');
  let account: { username: string; password: string };
  if (existsSync(accountFile)) {
    keepPrivate(accountFile);
    account = JSON.parse(readFileSync(accountFile, 'utf8'));
  } else {
    account = { username: 'lgsp-h49', password: randomBytes(18).toString('base64url') };
    writePrivateFile(accountFile, JSON.stringify(account, null, 2) + '\n');
  }
  let configFile = opts.userConnectorsConfig;
  if (!configFile) {
    // Other connectors may keep their settings in the same file: only our entry is replaced.
    configFile = stackConnectorsConfigFile(opts.dataDir);
    const config = existsSync(configFile) ? (JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>) : {};
    config['one-stop-shop'] = { portalUrl: opts.portalUrl, username: account.username };
    writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  }
  return {
    portalEnv: {
      MOCK_PORTAL_USERNAME: account.username,
      MOCK_PORTAL_PASSWORD: account.password,
      MOCK_PORTAL_BUS_URL: opts.gatewayUrl,
      MOCK_PORTAL_BUS_CLIENT_FILE: join(opts.clientsDir, 'dvcqg-portal.json'),
    },
    runnerEnv: { LGSP_CONNECTORS_CONFIG: configFile, [PORTAL_PASSWORD_ENV]: account.password },
  };
}
