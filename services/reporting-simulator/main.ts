// Runs the reporting information system simulator (part of `npm start`; also usable alone).
// REPORTING_API_KEY (required) is the key the LGSP must present; signatures are checked against
// REPORTING_JWKS_URL (the gateway's /.well-known/jwks.json) when set, else against the platform
// keys file (LGSP_KEYS_FILE), else not at all.
import { createRemoteJWKSet } from 'jose';
import { existsSync } from 'node:fs';
import { loadConfig } from '../platform/config.js';
import { PlatformKeystore } from '../platform/keystore.js';
import { buildReportingSimulator } from './reporting-app.js';

const apiKey = process.env.REPORTING_API_KEY;
if (!apiKey) {
  console.error('reporting simulator: REPORTING_API_KEY is required');
  process.exit(1);
}
const config = loadConfig();
const verificationKeys = process.env.REPORTING_JWKS_URL
  ? createRemoteJWKSet(new URL(process.env.REPORTING_JWKS_URL))
  : existsSync(config.keysFile) ? (await PlatformKeystore.open(config.keysFile)).keyResolver() : undefined;
const { app } = await buildReportingSimulator({ apiKey, verificationKeys });
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`reporting system simulator listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
