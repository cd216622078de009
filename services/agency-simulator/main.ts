// Runs the demo agency simulator (part of `npm start`).
import { loadConfig } from '../platform/config.js';
import { PlatformKeystore } from '../platform/keystore.js';
import { buildAgencySimulator } from './simulator-app.js';

const config = loadConfig();
const keystore = await PlatformKeystore.open(config.keysFile);
const { app } = await buildAgencySimulator(keystore.keyResolver());
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
console.log(`agency simulator listening on ${url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close().then(() => process.exit(0)));
