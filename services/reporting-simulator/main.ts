// Runs the reporting information system simulator (part of `npm start`; also usable alone).
// REPORTING_API_KEY (required) is the key the LGSP must present; signatures are checked against
// REPORTING_JWKS_URL (the gateway's /.well-known/jwks.json?purpose=delivery) when set, else
// against the platform's public keyset file (LGSP_JWKS_FILE, delivery keys only), else not at all.
import { createRemoteJWKSet } from 'jose';
import { existsSync } from 'node:fs';
import { loadConfig } from '../platform/config.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { buildReportingSimulator } from './reporting-app.js';

const apiKey = process.env.REPORTING_API_KEY;
if (!apiKey) {
  console.error('reporting simulator: REPORTING_API_KEY is required');
  process.exit(1);
}
const config = loadConfig();
const verificationKeys = process.env.REPORTING_JWKS_URL
  ? createRemoteJWKSet(new URL(process.env.REPORTING_JWKS_URL))
  : existsSync(config.jwksFile) ? PublicKeyset.open(config.jwksFile, { graceSeconds: config.keyGraceSeconds }).resolver('delivery') : undefined;
const { app } = await buildReportingSimulator({ apiKey, verificationKeys });
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`reporting system simulator listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
