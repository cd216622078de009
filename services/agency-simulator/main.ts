// Runs the demo agency simulator (part of `npm start`). It verifies deliveries against the
// platform's public keyset, delivery keys only: it holds no private key.
import { loadConfig } from '../platform/config.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { buildAgencySimulator } from './simulator-app.js';

const config = loadConfig();
const publicKeys = PublicKeyset.open(config.jwksFile, { graceSeconds: config.keyGraceSeconds });
const { app } = await buildAgencySimulator(publicKeys.resolver('delivery'));
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`agency simulator listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
