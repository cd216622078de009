// Runs the operator console on its own: `node dist/services/console/main.js`. PORT picks the
// port; LGSP_AUDIT_URL and LGSP_RUNNER_URL say where the audit service and the runner's
// management API listen (`npm start` sets both); LGSP_GATEWAY_URL defaults to LGSP_ISSUER.
import { loadConfig } from '../platform/config.js';
import { startConsole } from './console-service.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const consoleService = await startConsole(config, {
  port: Number(process.env.PORT ?? 0),
  upstream: {
    gateway: process.env.LGSP_GATEWAY_URL || undefined,
    audit: process.env.LGSP_AUDIT_URL || null,
    runner: process.env.LGSP_RUNNER_URL || null,
  },
});
console.log(`operator console: ${consoleService.url}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`operator console: ${signal}, stopping`);
  try {
    await consoleService.stop();
    process.exit(0);
  } catch (err) {
    console.error(`operator console: stop failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
