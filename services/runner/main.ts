// Runs the connector runtime with every connector under connectors/ (or LGSP_CONNECTORS=a,b).
import { readFileSync } from 'node:fs';
import { loadConfig } from '../platform/config.js';
import { startRunner } from './runner-service.js';

const config = loadConfig();
const runner = await startRunner(config, {
  port: Number(process.env.PORT ?? 0),
  connectors: process.env.LGSP_CONNECTORS ? process.env.LGSP_CONNECTORS.split(',') : undefined,
  connectorConfig: process.env.LGSP_CONNECTORS_CONFIG ? JSON.parse(readFileSync(process.env.LGSP_CONNECTORS_CONFIG, 'utf8')) : undefined,
});
console.log(`runner listening on ${runner.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void runner.stop().then(() => process.exit(0)));
