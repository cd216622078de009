// A bus for document-exchange tests: gateway and runner (document-management connector) on the
// real broker, plus the QLVB simulator serving the seeded QLVB systems the way `npm start` does
// (so-tttt push/JSON, so-tp push/edXML, so-khdt pull/edXML, xa-hoaphuoc pull/JSON). The
// provincial office's system (vp-ubnd-qlvb, pull/JSON) is left for the test to drive.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type BusConfig, type KafkaSettings } from '../../services/platform/config.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { createTestKeys, type TestKeys } from './test-keys.js';
import { startGateway, type RunningGateway } from '../../services/gateway/gateway-service.js';
import { gatewayModules } from '../../services/composition/gateway-modules.js';
import { startRunner, type RunningRunner } from '../../services/runner/runner-service.js';
import { prepareDevRegistry, QLVB_SIMULATOR_PLACEHOLDER, type DevClientFile } from '../../services/stack/dev-credentials.js';
import { BusClient } from '../../services/platform/bus-client.js';
import { freePort } from '../../services/local-processes/free-port.js';
import { QlvbSimulator, type SimulatedSystem } from '../../services/qlvb-simulator/qlvb-simulator.js';
import { seedRegistry, uniquePrefix } from './test-bus.js';
import { testKafkaSettings } from './test-kafka.js';
import { provisionBusAcls } from '../../services/platform/kafka-acls.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { openDatabase, type Database } from '../../services/platform/database.js';

export const SIMULATED = ['so-tttt-qlvb', 'so-tp-qlvb', 'so-khdt-qlvb', 'xa-hoaphuoc-qlvb'];

export interface EdocBus {
  config: BusConfig;
  database: TestDatabase;
  /** A pool on the bus's own database, for tests that look at or change rows directly. */
  db: Database;
  gateway: RunningGateway;
  runner: RunningRunner;
  qlvb: QlvbSimulator;
  /** The bus's keys (tests open sealed payloads with them). */
  keys: TestKeys;
  /** Every system's credentials, as the dev registry issued them. */
  clients: Map<string, DevClientFile>;
  client(clientId: string): BusClient;
  stop(): Promise<void>;
}

export async function startEdocBus(
  t: { teardown(fn: () => unknown): void },
  opts: {
    name: string;
    config?: Partial<BusConfig>;
    adjustRegistry?: (seeds: RegistryData) => void;
    /** A broker of the test's own: its client settings instead of the environment's. */
    kafka?: KafkaSettings;
    /** false: the runner does not host the ledger (the test starts one when it wants). */
    ledger?: boolean;
    /** Configuration of the runner's connectors, by name (as LGSP_CONNECTORS_CONFIG gives it). */
    connectorConfig?: Record<string, unknown>;
  },
): Promise<EdocBus> {
  const dataDir = mkdtempSync(join(tmpdir(), `lgsp-${opts.name}-`));
  const keys = await createTestKeys(dataDir);
  const port = await freePort();
  const qlvbPort = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const seeds = seedRegistry();
  opts.adjustRegistry?.(seeds);
  const prepared = await prepareDevRegistry({
    seeds,
    dataDir,
    tokenUrl: `${issuer}/v1/token`,
    endpointBases: { [QLVB_SIMULATOR_PLACEHOLDER]: `http://127.0.0.1:${qlvbPort}` },
  });
  const database = await createTestDatabase(opts.name);
  const config = loadConfig(
    {
      ...(opts.kafka ?? testKafkaSettings()),
      dataDir,
      databaseUrl: database.url,
      keysDir: keys.keysDir,
      jwksFile: keys.jwksFile,
      registryFile: prepared.registryFile,
      issuer,
      topicPrefix: uniquePrefix(opts.name),
      topicPartitions: 2,
      logLevel: 'error',
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 500,
      retryMaxAttempts: 6,
      ...opts.config,
    },
    {},
  );
  const systems: SimulatedSystem[] = SIMULATED.map((clientId) => {
    const system = seeds.systems.find((s) => s.clientId === clientId)!;
    return {
      clientId,
      member: system.member,
      organName: seeds.members.find((m) => m.code === system.member)!.name,
      mode: system.documentDelivery!.mode,
      format: system.documentDelivery!.format,
      shape: system.documentDelivery!.edxmlShape ?? 'sdk',
      credentials: prepared.clients.get(clientId)!,
    };
  });
  const qlvb = new QlvbSimulator({ gatewayUrl: issuer, getKey: keys.publicKeys.resolver('delivery'), systems, answerDelayMs: 50, pollIntervalMs: 200 });
  await qlvb.app.listen({ port: qlvbPort, host: '127.0.0.1' });
  // The owner migrates first; with LGSP_TEST_SERVICE_ROLES=1 the services then log in as their own roles.
  const db = await openDatabase(database.url);
  await provisionBusAcls(opts.kafka ?? testKafkaSettings(), config.topicPrefix);
  const serviceRoles = process.env.LGSP_TEST_SERVICE_ROLES === '1';
  const gateway = await startGateway(serviceRoles ? { ...config, databaseUrl: await database.serviceUrl('gateway') } : config, { port, modules: gatewayModules });
  const runner = await startRunner(serviceRoles ? { ...config, databaseUrl: await database.serviceUrl('runner') } : config, { connectors: ['document-management'], ...(opts.ledger === false ? { ledger: false } : {}), ...(opts.connectorConfig ? { connectorConfig: opts.connectorConfig } : {}) });
  qlvb.startPolling();
  let stopped = false;
  const bus: EdocBus = {
    config,
    database,
    db,
    gateway,
    runner,
    qlvb,
    keys,
    clients: prepared.clients,
    client: (clientId) => new BusClient(gateway.url, prepared.clients.get(clientId)!),
    async stop() {
      if (stopped) return;
      stopped = true;
      await qlvb.stop();
      await runner.stop();
      await gateway.stop();
      await db.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  t.teardown(() => bus.stop());
  return bus;
}
