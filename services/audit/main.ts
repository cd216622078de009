// Runs the audit service on its own: `node dist/services/audit/main.js` (PORT picks the port).
import { loadConfig } from '../platform/config.js';
import { startAuditService } from './audit-service.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const audit = await startAuditService(config, { port: Number(process.env.PORT ?? 0) });
console.log(`audit service: ${audit.url}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  // A second Ctrl-C while stopping means "now".
  if (stopping) process.exit(1);
  stopping = true;
  console.log(`audit service: ${signal}, stopping`);
  try {
    await audit.stop();
    process.exit(0);
  } catch (err) {
    console.error(`audit service: stop failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
