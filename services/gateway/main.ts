// Runs one gateway process. Configuration: environment (see README) or LGSP_CONFIG.
import { loadConfig } from '../platform/config.js';
import { startGateway } from './gateway-service.js';

const config = loadConfig();
const gateway = await startGateway(config, { port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1', instanceId: process.env.LGSP_INSTANCE_ID });
console.log(`gateway listening on ${gateway.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void gateway.stop().then(() => process.exit(0)));
