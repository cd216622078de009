// Runs one gateway process. Configuration: environment (see README) or LGSP_CONFIG. As the
// process's entry point it is where the domain modules are wired in.
import { runServiceMain } from '../platform/service-main.js';
import { gatewayModules } from '../composition/gateway-modules.js';
import { startGateway } from './gateway-service.js';

await runServiceMain('gateway', (config) =>
  startGateway(config, { port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1', modules: gatewayModules }),
);
