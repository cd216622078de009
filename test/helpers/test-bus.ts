// Starts a real bus for a test: gateway, runner and the agency simulator in-process, against
// the real Kafka broker in KAFKA_BROKERS, with a fresh data dir, fresh keys and a unique topic
// prefix so tests running in parallel on one broker never see each other's records.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type BusConfig } from '../../services/platform/config.js';
import { PlatformKeystore } from '../../services/platform/keystore.js';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { startGateway, type RunningGateway } from '../../services/gateway/gateway-service.js';
import { gatewayModules } from '../../services/composition/gateway-modules.js';
import { startRunner, type RunningRunner } from '../../services/runner/runner-service.js';
import { buildAgencySimulator, type SimulatorState } from '../../services/agency-simulator/simulator-app.js';
import { prepareDevRegistry, type DevClientFile } from '../../services/stack/dev-credentials.js';
import { BusClient } from '../../services/platform/bus-client.js';
import { freePort } from '../../services/stack/free-port.js';

export interface TestBus {
  config: BusConfig;
  gateway: RunningGateway;
  runner: RunningRunner | null;
  simulatorUrl: string;
  simulator: SimulatorState;
  keystore: PlatformKeystore;
  clients: Map<string, DevClientFile>;
  client(clientId: string): BusClient;
  stop(): Promise<void>;
}

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run tests with `npm test`, which starts a broker');
  return brokers.split(',');
}

export function uniquePrefix(name: string): string {
  return `t-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.`;
}

export function seedRegistry(): RegistryData {
  return JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
}

export async function startTestBus(
  t: { teardown(fn: () => unknown): void },
  opts: {
    name: string;
    config?: Partial<BusConfig>;
    runner?: boolean;
    brokers?: string[];
    /** Connectors the runner hosts (default: relay) and their configuration by name. */
    connectors?: string[];
    connectorConfig?: Record<string, unknown>;
    /** Secret values by connector then secret name (instead of LGSP_SECRET_* variables). */
    connectorSecrets?: Record<string, Record<string, string>>;
    /** Changes to the demo registry before it is prepared: e.g. a test connector's service and access rights. */
    registry?: (registry: RegistryData) => void;
  },
): Promise<TestBus> {
  const dataDir = mkdtempSync(join(tmpdir(), `lgsp-${opts.name}-`));
  const keysFile = join(dataDir, 'platform-keys.json');
  const keystore = await PlatformKeystore.open(keysFile);
  const sim = await buildAgencySimulator(keystore.keyResolver());
  const simulatorUrl = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const seeds = seedRegistry();
  opts.registry?.(seeds);
  const prepared = await prepareDevRegistry({ seeds, dataDir, tokenUrl: `${issuer}/v1/token`, simulatorUrl });
  const config = loadConfig(
    {
      dataDir,
      keysFile,
      registryFile: prepared.registryFile,
      issuer,
      kafkaBrokers: opts.brokers ?? kafkaBrokers(),
      topicPrefix: uniquePrefix(opts.name),
      topicPartitions: 2,
      logLevel: 'error',
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 1000,
      retryMaxAttempts: 3,
      checkpointIntervalMs: 500,
      ...opts.config,
    },
    {},
  );
  const gateway = await startGateway(config, { port, modules: gatewayModules });
  const runner = opts.runner === false ? null : await startRunner(config, { connectors: opts.connectors ?? ['relay'], connectorConfig: opts.connectorConfig, connectorSecrets: opts.connectorSecrets });
  let stopped = false;
  const bus: TestBus = {
    config,
    gateway,
    runner,
    simulatorUrl,
    simulator: sim.state,
    keystore,
    clients: prepared.clients,
    client: (clientId) => {
      const creds = prepared.clients.get(clientId);
      if (!creds) throw new Error(`no dev client ${clientId}`);
      return new BusClient(gateway.url, creds);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await runner?.stop();
      await gateway.stop();
      await sim.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.teardown(() => bus.stop());
  return bus;
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
}
