// The entry point every bus service shares: load and validate the configuration (a bad value,
// there or found while starting, stops the process with exit code 2 and the message), start the service, say where it
// listens, and stop it cleanly on SIGINT/SIGTERM — a second signal while stopping exits at once.
// Stopping begins with a drain (shutdownDrainMs): /readyz answers 503 while the service still
// serves, so a load balancer probing it sends no new work before connections are refused.
import { ConfigError, loadConfig, type BusConfig } from './config.js';
import { markStopping } from './service-health.js';

export interface StartedService {
  url: string;
  stop(): Promise<void>;
}

export async function runServiceMain(name: string, start: (config: BusConfig) => Promise<StartedService>): Promise<void> {
  let config: BusConfig;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
    process.exit(2);
  }
  let service: StartedService;
  try {
    service = await start(config);
  } catch (err) {
    // A setting or file found wrong while starting (Kafka credentials, DATABASE_URL's TLS, a
    // database role that may not migrate, a key file missing or unreadable, the public keyset, the
    // registry): the message, one line, not a stack trace. Anything else is unexpected: thrown on,
    // with its stack trace.
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${name}: ${err.message}`);
    process.exit(2);
  }
  console.log(`${name} listening on ${service.url}`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    markStopping();
    console.log(`${name}: ${signal}, not ready; stopping in ${config.shutdownDrainMs} ms`);
    try {
      await new Promise((r) => setTimeout(r, config.shutdownDrainMs));
      await service.stop();
      process.exit(0);
    } catch (err) {
      console.error(`${name}: stop failed: ${(err as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
