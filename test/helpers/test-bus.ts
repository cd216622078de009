// Starts a real bus for a test: gateway, runner and the agency simulator in-process, against
// the real Kafka broker in KAFKA_BROKERS and the PostgreSQL server in DATABASE_URL, with a fresh
// data dir, fresh keys, a database of its own and a unique topic prefix so tests running in
// parallel on one broker and one server never see each other's records or rows.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, type BusConfig, type KafkaSettings } from '../../services/platform/config.js';
import { createTestKeys, type TestKeys } from './test-keys.js';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { startGateway, type RunningGateway } from '../../services/gateway/gateway-service.js';
import { gatewayModules } from '../../services/composition/gateway-modules.js';
import { startRunner, type RunningRunner, type RunnerOptions } from '../../services/runner/runner-service.js';
import { buildAgencySimulator, type SimulatorState } from '../../services/agency-simulator/simulator-app.js';
import { prepareDevRegistry, type DevClientFile } from '../../services/stack/dev-credentials.js';
import { BusClient } from '../../services/platform/bus-client.js';
import { toPublicJwk } from '../../services/platform/keystore.js';
import { entryFingerprint, jwkCredential } from '../../services/platform/token-binding.js';
import { freePort } from '../../services/local-processes/free-port.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { openDatabase, type Database } from '../../services/platform/database.js';
import { testKafkaSettings } from './test-kafka.js';
import { provisionBusAcls, revokeBusAcls } from '../../services/platform/kafka-acls.js';

export interface TestBus {
  config: BusConfig;
  database: TestDatabase;
  /** A pool on the bus's own database, for tests that look at or change rows directly. */
  db: Database;
  /** The first of `gateways`. */
  gateway: RunningGateway;
  gateways: RunningGateway[];
  /** The first of `runners` (null with `runner: false`). */
  runner: RunningRunner | null;
  runners: RunningRunner[];
  simulatorUrl: string;
  simulator: SimulatorState;
  /** Every service's keys (tests may forge as any of them) and the public keyset. */
  keys: TestKeys;
  clients: Map<string, DevClientFile>;
  /** A client of gateway `gatewayIndex` (default the first); every gateway shares the issuer. */
  client(clientId: string, gatewayIndex?: number): BusClient;
  stop(): Promise<void>;
}

/**
 * The environment a bus service started as a child process needs to join this test's bus (its
 * database, keys, registry, issuer, topics), on top of the test's own (Kafka settings) and a
 * free port; callers add what their case changes.
 */
export function serviceProcessEnv(config: BusConfig): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: '0',
    DATABASE_URL: config.databaseUrl,
    LGSP_DATA_DIR: config.dataDir,
    LGSP_KEYS_DIR: config.keysDir,
    LGSP_JWKS_FILE: config.jwksFile,
    LGSP_REGISTRY_FILE: config.registryFile,
    LGSP_ISSUER: config.issuer,
    LGSP_TOPIC_PREFIX: config.topicPrefix,
    LGSP_TOPIC_PARTITIONS: String(config.topicPartitions),
  };
}

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: run tests with `npm test`, which starts a broker');
  return brokers.split(',');
}

export function uniquePrefix(name: string): string {
  return `t-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.`;
}

/**
 * The demo registry tests start from: the working directory's seeds/registry.json when there is
 * one (a project of an integrator's, with the entries step 5 of docs/write-a-connector.md adds),
 * else this checkout's.
 */
export function seedRegistry(): RegistryData {
  const local = join(process.cwd(), 'seeds', 'registry.json');
  return JSON.parse(readFileSync(existsSync(local) ? local : join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
}

export async function startTestBus(
  t: { teardown(fn: () => unknown): void },
  opts: {
    name: string;
    config?: Partial<BusConfig>;
    runner?: boolean;
    /** Gateways and runners on the same bus and database (default 1 each), as replicas would run. */
    gateways?: number;
    runners?: number;
    /** A PostgreSQL server of the test's own (e.g. one it stops), instead of DATABASE_URL's. */
    databaseServer?: string;
    /**
     * Gateways and runners log in as their own database roles (as npm start runs them) instead
     * of the owner's login; the default is LGSP_TEST_SERVICE_ROLES=1 in the environment.
     */
    serviceRoles?: boolean;
    /** A broker of the test's own (e.g. one it stops): its client settings instead of the environment's. */
    kafka?: KafkaSettings;
    /** Connectors the runner hosts (default: relay) and their configuration by name. */
    connectors?: string[];
    connectorConfig?: RunnerOptions['connectorConfig'];
    /** Secret values by connector then secret name (instead of LGSP_SECRET_* variables). */
    connectorSecrets?: Record<string, Record<string, string>>;
    /** How often the gateways and the runners check the registry file (default 2 s). */
    registryWatchMs?: number;
    /** Changes to the demo registry before it is prepared: e.g. a test connector's service and access rights. */
    registry?: (registry: RegistryData) => void;
    /** The runners' logger, for tests that read what a runner logs (default: config.logLevel on standard output). */
    runnerLog?: Logger;
  },
): Promise<TestBus> {
  const dataDir = mkdtempSync(join(tmpdir(), `lgsp-${opts.name}-`));
  const keys = await createTestKeys(dataDir);
  const sim = await buildAgencySimulator(keys.publicKeys.resolver('delivery'));
  const simulatorUrl = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const seeds = seedRegistry();
  opts.registry?.(seeds);
  const prepared = await prepareDevRegistry({ seeds, dataDir, tokenUrl: `${issuer}/v1/token`, simulatorUrl });
  const kafkaSettings = opts.kafka ?? testKafkaSettings();
  const topicPrefix = opts.config?.topicPrefix ?? uniquePrefix(opts.name);
  // The broker's ACLs and the database do not wait for each other: made side by side (a bus
  // start is mostly waiting, and the suite starts over a hundred of them).
  const acls = provisionBusAcls(kafkaSettings, topicPrefix);
  acls.catch(() => undefined);
  let database: TestDatabase;
  try {
    database = await createTestDatabase(opts.name, opts.databaseServer);
  } catch (err) {
    // No database (e.g. DATABASE_URL not set): fail at once, not after tap's timeout on an open server.
    await sim.app.close();
    await acls.catch(() => undefined);
    throw err;
  }
  const config = loadConfig(
    {
      ...kafkaSettings,
      dataDir,
      keysDir: keys.keysDir,
      jwksFile: keys.jwksFile,
      registryFile: prepared.registryFile,
      issuer,
      databaseUrl: database.url,
      topicPrefix,
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
  // The owner migrates (so the service roles exist and hold their grants) before any service starts.
  const [opened, granted] = await Promise.allSettled([openDatabase(database.url), acls]);
  if (opened.status === 'rejected' || granted.status === 'rejected') {
    if (opened.status === 'fulfilled') await opened.value.close();
    await sim.app.close();
    await database.drop().catch(() => undefined);
    throw opened.status === 'rejected' ? opened.reason : (granted as PromiseRejectedResult).reason;
  }
  const db = opened.value;
  const gateways: RunningGateway[] = [];
  const runners: RunningRunner[] = [];
  try {
    const serviceRoles = opts.serviceRoles ?? process.env.LGSP_TEST_SERVICE_ROLES === '1';
    const gatewayConfig = serviceRoles ? { ...config, databaseUrl: await database.serviceUrl('gateway') } : config;
    const runnerConfig = serviceRoles ? { ...config, databaseUrl: await database.serviceUrl('runner') } : config;
    // Gateways and runners start side by side, as separate processes do under npm start: each
    // makes the topics it needs (concurrent creation is expected) and neither waits for the other.
    const started = await Promise.allSettled([
      (async () => {
        gateways.push(await startGateway(gatewayConfig, { port, instanceId: 'gw-1', modules: gatewayModules, registryWatchMs: opts.registryWatchMs }));
        for (let i = 2; i <= (opts.gateways ?? 1); i++) gateways.push(await startGateway(gatewayConfig, { port: await freePort(), instanceId: `gw-${i}`, modules: gatewayModules, registryWatchMs: opts.registryWatchMs }));
      })(),
      (async () => {
        if (opts.runner === false) return;
        for (let i = 1; i <= (opts.runners ?? 1); i++) {
          runners.push(await startRunner(runnerConfig, { connectors: opts.connectors ?? ['relay'], connectorConfig: opts.connectorConfig, connectorSecrets: opts.connectorSecrets, registryWatchMs: opts.registryWatchMs, log: opts.runnerLog }));
        }
      })(),
    ]);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    // Whatever did start must not keep the test process alive.
    for (const r of runners) await r.stop().catch(() => undefined);
    for (const g of gateways) await g.stop().catch(() => undefined);
    await sim.app.close();
    await db.close();
    await database.drop().catch(() => undefined);
    throw err;
  }
  const [gateway] = gateways;
  const runner = runners[0] ?? null;
  let stopped = false;
  const bus: TestBus = {
    config,
    database,
    db,
    gateway,
    gateways,
    runner,
    runners,
    simulatorUrl,
    simulator: sim.state,
    keys,
    clients: prepared.clients,
    client: (clientId, gatewayIndex = 0) => {
      const creds = prepared.clients.get(clientId);
      if (!creds) throw new Error(`no dev client ${clientId}`);
      return new BusClient(gateways[gatewayIndex].url, creds, issuer);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const r of runners) await r.stop();
      for (const g of gateways) await g.stop();
      await sim.app.close();
      await db.close();
      await database.drop();
      // Its ACLs too: the suite's broker is shared, and every bus's ACL check lists them all.
      await revokeBusAcls(kafkaSettings, config.topicPrefix).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.teardown(() => bus.stop());
  return bus;
}

/**
 * The registry entry a token a test makes itself is bound to, as POST /v1/token binds it for a
 * dev client authenticating with its key (token-binding.ts): without it the token is refused.
 */
export function tokenEntryOf(client: DevClientFile): string {
  return entryFingerprint(client.member, jwkCredential(toPublicJwk(client.privateJwk)));
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
