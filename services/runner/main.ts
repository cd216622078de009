// Runs the connector runtime with every connector under connectors/ (or LGSP_CONNECTORS=a,b).
import { runServiceMain } from '../platform/service-main.js';
import { startRunner } from './runner-service.js';
import { connectorsConfigReader } from './connector-loader.js';

await runServiceMain('runner', (config) =>
  startRunner(config, {
    port: Number(process.env.PORT ?? 0),
    host: process.env.HOST ?? '127.0.0.1',
    connectors: process.env.LGSP_CONNECTORS ? process.env.LGSP_CONNECTORS.split(',') : undefined,
    connectorConfig: connectorsConfigReader(process.env.LGSP_CONNECTORS_CONFIG),
  }),
);
