// `npm start`: the whole bus on one machine. Starts (or reuses, with KAFKA_BROKERS) a Kafka
// broker and (or reuses, with DATABASE_URL) a PostgreSQL server whose data persists under
// <dataDir>/postgres, writes dev credentials and the dev registry, then runs every service as its own
// process, prints the URLs, writes .lgsp/dev/stack.json, and stops everything on Ctrl-C.
// Its own PostgreSQL serves TLS (LGSP_POSTGRES_PLAINTEXT=1: plaintext) and each service logs in
// as its own role (service-logins.ts); a DATABASE_URL from the environment is used by every service.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../platform/project-root.js';
import { ensureKeys } from '../platform/key-files.js';
import type { RegistryData } from '../platform/registry.js';
import { startLocalKafka, type LocalKafka } from '../local-kafka/local-kafka.js';
import { provisionBusAcls } from '../platform/kafka-acls.js';
import type { KafkaPrincipal } from '../platform/kafka-security.js';
import { ensureTestSigningCa } from '../edxml/test-signing-ca.js';
import { startLocalPostgres, type LocalPostgres } from '../local-postgres/local-postgres.js';
import { ensureServiceLogins } from '../local-postgres/service-logins.js';
import { migrateDatabase } from '../platform/migrations.js';
import type { DatabaseService } from '../platform/database-roles.js';
import { prepareDevRegistry, QLVB_SIMULATOR_PLACEHOLDER } from './dev-credentials.js';
import { prepareReportingDemo } from '../reporting-simulator/dev-setup.js';
import { freePort, portIsFree, preferredPort } from '../local-processes/free-port.js';
import { superviseRestarts } from './supervisor.js';
import { stackBanner } from './stack-banner.js';
import { prepareDossierDemo } from '../mock-portal/dev-setup.js';
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from '../platform/service-node-flags.js';
import { markStackStarting, markStackStopped, previousConsolePort, stackFilePath, writeRunningStack } from './stack-file.js';

interface ServiceSpec {
  name: string;
  script: string;
  port: number;
  env?: Record<string, string>;
  /** Who it is on the stack's own Kafka: it gets that principal's credentials only. */
  kafkaPrincipal?: KafkaPrincipal;
  /** Who it is on the stack's own PostgreSQL: it gets that role's DATABASE_URL only. */
  databaseService?: DatabaseService;
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not healthy after ${timeoutMs / 1000} s`);
}

function prefixLines(name: string, stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream): void {
  let buffered = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
}

export interface StackOptions {
  /** Gateway replicas: the first on PORT (8080), the others on free ports, one issuer. */
  gateways: number;
  /** Runner replicas: one consumer group per connector, partitions shared between them. */
  runners: number;
  /** Local Kafka nodes (1, or 3 for a cluster with replication factor 3); ignored with KAFKA_BROKERS. */
  brokers: 1 | 3;
}

export const STACK_USAGE = 'usage: lgsp start [--gateways N] [--runners M] [--brokers 1|3]';

/** `npm start -- --gateways 2 --runners 2 --brokers 3`; throws with the usage on a bad value. */
export function parseStackArgs(argv: string[]): StackOptions {
  const { values } = parseArgs({
    args: argv,
    options: { gateways: { type: 'string', default: '1' }, runners: { type: 'string', default: '1' }, brokers: { type: 'string', default: '1' } },
  });
  const count = (name: string, raw: string, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}\n${STACK_USAGE}`);
    return n;
  };
  const brokers = Number(values.brokers);
  if (brokers !== 1 && brokers !== 3) throw new Error(`--brokers must be 1 or 3\n${STACK_USAGE}`);
  return { gateways: count('gateways', values.gateways!, 8), runners: count('runners', values.runners!, 8), brokers };
}

/** Where the stack keeps its files: LGSP_DATA_DIR, else .lgsp/dev in the project. */
export function stackDataDir(): string {
  return resolve(process.env.LGSP_DATA_DIR ?? join(PROJECT_ROOT, '.lgsp', 'dev'));
}

export async function runLocalStack(options: StackOptions = { gateways: 1, runners: 1, brokers: 1 }): Promise<void> {
  const dataDir = stackDataDir();
  mkdirSync(dataDir, { recursive: true });
  const gatewayPort = Number(process.env.PORT ?? 8080);
  // The gateway's port is fixed, unlike the others. Taken by another server (another stack, a
  // Tomcat), the gateway would crash-loop while that server answered the readiness check: the
  // stack said `running` with its URL and every simulator and client reading stack.json talked
  // to a bus that was not this one. Checked before stack.json is written, so a stack already
  // running on this data directory keeps its file.
  if (!(await portIsFree(gatewayPort))) {
    throw new Error(`the gateway's port 127.0.0.1:${gatewayPort} is already in use (another LGSP stack, or another server): stop it, or start with PORT=<another port>`);
  }
  markStackStarting(dataDir, previousConsolePort(dataDir));
  const issuer = process.env.LGSP_ISSUER ?? `http://127.0.0.1:${gatewayPort}`;
  const children: { name: string; child: ChildProcess }[] = [];
  let kafka: LocalKafka | null = null;
  let postgres: LocalPostgres | null = null;
  let stopping = false;

  const shutdown = async (code: number): Promise<never> => {
    if (stopping) return new Promise<never>(() => undefined);
    stopping = true;
    console.log('\nstopping the LGSP stack…');
    for (const { child } of [...children].reverse()) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      children.map(({ child }) =>
        child.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => {
          const timer = setTimeout(() => { child.kill('SIGKILL'); r(); }, 10_000);
          child.once('exit', () => { clearTimeout(timer); r(); });
        }),
      ),
    );
    if (kafka) {
      console.log('stopping the Kafka broker…');
      await kafka.stop();
    }
    if (postgres) {
      console.log('stopping PostgreSQL…');
      await postgres.stop();
    }
    markStackStopped(dataDir);
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    let brokers = process.env.KAFKA_BROKERS;
    if (!brokers) {
      console.log(`starting a local Kafka ${options.brokers === 3 ? '3-node cluster' : 'broker'} …`);
      // Its data lives with the rest of the stack's state, so a stop and start loses nothing:
      // pending messages, retries and dead letters are still there.
      // Secured (TLS, SCRAM, ACLs) like a production cluster unless LGSP_KAFKA_PLAINTEXT=1.
      kafka = await startLocalKafka({
        nodes: options.brokers,
        dataDir: join(dataDir, 'kafka'),
        plaintext: process.env.LGSP_KAFKA_PLAINTEXT === '1',
        log: (line) => console.log(`[kafka] ${line}`),
      });
      brokers = kafka.bootstrap;
      await provisionBusAcls(kafka.clientSettings(), process.env.LGSP_TOPIC_PREFIX ?? '');
    }
    // Our own broker: the CA for everyone, and each Kafka client its own principal's password
    // (below); an external one: the operator's KAFKA_* settings pass through unchanged.
    const kafkaEnv: Record<string, string> = kafka ? kafka.clientEnv() : {};
    delete kafkaEnv.KAFKA_CREDENTIALS_DIR;
    const kafkaLogin = (principal: KafkaPrincipal | undefined): Record<string, string> => {
      const creds = principal && kafka?.security?.credentials[principal];
      return creds ? { KAFKA_SASL_USERNAME: creds.username, KAFKA_SASL_PASSWORD: creds.password } : {};
    };
    let databaseUrl = process.env.DATABASE_URL;
    let databaseLogins: Record<DatabaseService, string> | undefined;
    if (!databaseUrl) {
      console.log('starting a local PostgreSQL…');
      // Kept under the data dir: documents, statuses and the audit chain survive a restart.
      postgres = await startLocalPostgres({
        dataDir: join(dataDir, 'postgres'),
        plaintext: process.env.LGSP_POSTGRES_PLAINTEXT === '1',
        log: (line) => console.log(`[postgres] ${line}`),
      });
      databaseUrl = postgres.url;
      // The owner migrates (and so creates and grants the service roles); the services, logged
      // in as their roles, could not.
      await migrateDatabase(postgres.url);
      databaseLogins = await ensureServiceLogins(postgres);
    }
    // Our own PostgreSQL: each service its own role's URL and nobody the owner's; an external
    // one: the operator's DATABASE_URL for every service.
    const databaseLogin = (service: DatabaseService | undefined): Record<string, string> =>
      databaseLogins ? (service ? { DATABASE_URL: databaseLogins[service] } : {}) : { DATABASE_URL: databaseUrl };
    // First run: each service's own signing keys and the public keyset (never committed).
    const keysDir = join(dataDir, 'keys');
    const jwksFile = join(keysDir, 'public', 'jwks.json');
    await ensureKeys(keysDir, jwksFile);
    // The single key every service once shared (before keys per purpose): nothing reads it any
    // more, and a private key nobody needs should not stay on disk.
    rmSync(join(dataDir, 'platform-keys.json'), { force: true });
    // The console keeps the address of the previous start on this data dir when it is free: the
    // operators' bookmark still works, and so does the language their browser stored for it.
    const ports = { simulator: await freePort(), audit: await freePort(), console: await preferredPort(previousConsolePort(dataDir)) };
    const runnerPorts: number[] = [];
    for (let i = 0; i < options.runners; i++) runnerPorts.push(await freePort());
    const gatewayPorts = [gatewayPort];
    for (let i = 1; i < options.gateways; i++) gatewayPorts.push(await freePort());
    const runnerUrls = runnerPorts.map((p) => `http://127.0.0.1:${p}`);
    const gatewayUrls = gatewayPorts.map((p) => `http://127.0.0.1:${p}`);
    const simulatorUrl = `http://127.0.0.1:${ports.simulator}`;
    const qlvbSimulatorPort = await freePort();
    const qlvbSimulatorUrl = `http://127.0.0.1:${qlvbSimulatorPort}`;
    const reportingPort = await freePort();
    const reportingUrl = `http://127.0.0.1:${reportingPort}`;
    const reportingDemo = prepareReportingDemo({ dataDir, simulatorUrl: reportingUrl });
    const seeds = JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
    const prepared = await prepareDevRegistry({ seeds, dataDir, tokenUrl: `${issuer}/v1/token`, simulatorUrl, endpointBases: { [QLVB_SIMULATOR_PLACEHOLDER]: qlvbSimulatorUrl, ...reportingDemo.endpointBases } });
    const dossierPorts = { mockPortal: await freePort(), oneStopSimulator: await freePort() };
    const mockPortalUrl = `http://127.0.0.1:${dossierPorts.mockPortal}`;
    const dossierDemo = prepareDossierDemo({ dataDir, portalUrl: mockPortalUrl, gatewayUrl: issuer, clientsDir: prepared.clientsDir, userConnectorsConfig: process.env.LGSP_CONNECTORS_CONFIG });

    const trustedCas = process.env.LGSP_EDXML_TRUSTED_CAS || devSigningCa(dataDir);
    const inheritedEnv = { ...(process.env as Record<string, string>) };
    delete inheritedEnv.DATABASE_URL; // each service gets its own below (databaseLogin)
    const baseEnv: Record<string, string> = {
      ...inheritedEnv,
      ...(trustedCas ? { LGSP_EDXML_TRUSTED_CAS: trustedCas } : {}),
      KAFKA_BROKERS: brokers,
      ...kafkaEnv,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_DATA_DIR: dataDir,
      LGSP_REGISTRY_FILE: prepared.registryFile,
      LGSP_KEYS_DIR: keysDir,
      LGSP_JWKS_FILE: jwksFile,
      LGSP_ISSUER: issuer,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // No load balancer in front of the dev stack: Ctrl-C stops at once, without the drain.
      LGSP_SHUTDOWN_DRAIN_MS: process.env.LGSP_SHUTDOWN_DRAIN_MS ?? '0',
    };
    const services: ServiceSpec[] = [
      { name: 'agency-simulator', script: 'agency-simulator/main.js', port: ports.simulator },
      { name: 'audit', script: 'audit/main.js', port: ports.audit, kafkaPrincipal: 'audit', databaseService: 'audit' },
      { name: 'mock-portal', script: 'mock-portal/main.js', port: dossierPorts.mockPortal, env: dossierDemo.portalEnv, databaseService: 'portal' },
      { name: 'reporting-simulator', script: 'reporting-simulator/main.js', port: reportingPort, env: reportingDemo.simulatorEnv },
      // Replicas get distinct instance ids (Kafka client ids, PostgreSQL application names, logs);
      // consumer groups are shared by design, never by a forgotten id.
      ...runnerPorts.map((port, i) => ({
        name: options.runners > 1 ? `runner-${i + 1}` : 'runner',
        script: 'runner/main.js',
        port,
        kafkaPrincipal: 'runner' as const,
        databaseService: 'runner' as const,
        env: { ...dossierDemo.runnerEnv, ...reportingDemo.runnerEnv, LGSP_INSTANCE_ID: `runner-${i + 1}` },
      })),
      ...gatewayPorts.map((port, i) => ({
        name: options.gateways > 1 ? `gateway-${i + 1}` : 'gateway',
        script: 'gateway/main.js',
        port,
        kafkaPrincipal: 'gateway' as const,
        databaseService: 'gateway' as const,
        env: { LGSP_INSTANCE_ID: `gateway-${i + 1}` },
      })),
      // After the gateway and the portal: it files and progresses dossiers through both.
      { name: 'one-stop-simulator', script: 'one-stop-simulator/main.js', port: dossierPorts.oneStopSimulator, env: { ONE_STOP_SIM_PORTAL_URL: mockPortalUrl, ONE_STOP_SIM_INBOX_URL: simulatorUrl } },
      // After the gateway: it polls inboxes and answers status packets through the gateway API.
      { name: 'qlvb-simulator', script: 'qlvb-simulator/main.js', port: qlvbSimulatorPort },
      {
        name: 'console',
        script: 'console/main.js',
        port: ports.console,
        kafkaPrincipal: 'console',
        databaseService: 'console',
        env: { LGSP_AUDIT_URL: `http://127.0.0.1:${ports.audit}`, LGSP_RUNNER_URL: runnerUrls.join(','), LGSP_GATEWAY_URL: gatewayUrls.join(',') },
      },
    ];
    for (const spec of services) {
      const start = () => {
        const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, join(PROJECT_ROOT, 'dist', 'services', spec.script)], {
          env: { ...baseEnv, ...SERVICE_ENV, PORT: String(spec.port), ...spec.env, ...kafkaLogin(spec.kafkaPrincipal), ...databaseLogin(spec.databaseService) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        prefixLines(spec.name, child.stdout, process.stdout);
        prefixLines(spec.name, child.stderr, process.stderr);
        return child;
      };
      const entry = { name: spec.name, child: start() };
      const child = entry.child;
      children.push(entry);
      // A crash restarts that service (with backoff) instead of stopping the stack.
      superviseRestarts(entry, start, { stopping: () => stopping, say: (line) => console.error(line) });
      await waitHealthy(`http://127.0.0.1:${spec.port}`, child).catch((err: Error) => {
        throw new Error(`${spec.name} did not start: ${err.message}`);
      });
    }

    const stack = {
      gateway: issuer,
      gateways: gatewayUrls,
      docs: `${issuer}/docs`,
      runner: runnerUrls[0],
      runners: runnerUrls,
      audit: `http://127.0.0.1:${ports.audit}`,
      agencySimulator: simulatorUrl,
      mockPortal: mockPortalUrl,
      oneStopSimulator: `http://127.0.0.1:${dossierPorts.oneStopSimulator}`,
      qlvbSimulator: qlvbSimulatorUrl,
      reportingSimulator: reportingUrl,
      console: `http://127.0.0.1:${ports.console}`,
      kafka: {
        bootstrapServers: brokers,
        managedByStack: kafka !== null,
        // Paths only (KAFKA_SSL_CA_FILE, KAFKA_CREDENTIALS_DIR for operator tools); the passwords stay in their files.
        ...(kafka?.security ? { sslCaFile: kafka.security.caFile, credentialsDir: kafka.security.credentialsDir } : {}),
        // A broker of the stack's own started with LGSP_KAFKA_PLAINTEXT=1: tools must not try TLS.
        ...(kafka && !kafka.security ? { plaintext: true } : {}),
      },
      // The owner's URL without its password (lgsp db migrate and lgsp audit verify add it from
      // credentialsDir/owner.json); the services' passwords stay in their files too.
      postgres: {
        managedByStack: postgres !== null,
        ...(postgres ? { url: withoutPassword(postgres.url), dataDir: postgres.dataDir, credentialsDir: postgres.credentialsDir, ...(postgres.caFile ? { sslRootCert: postgres.caFile } : {}) } : {}),
      },
      clientsDir: prepared.clientsDir,
    };
    writeRunningStack(dataDir, stack);
    console.log(stackBanner(stack, {
      ownsKafka: kafka !== null,
      ownsPostgres: postgres !== null,
      brokers,
      postgres: postgres ? `${postgres.displayUrl}${postgres.caFile ? '' : '  (PLAINTEXT: LGSP_POSTGRES_PLAINTEXT=1)'}` : '(DATABASE_URL from the environment)',
      clientsDir: prepared.clientsDir,
      stackFile: stackFilePath(dataDir),
    }));
  } catch (err) {
    console.error(`could not start the stack: ${(err as Error).message}`);
    await shutdown(1);
  }
}

function withoutPassword(url: string): string {
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

/**
 * The demo CA for document signatures (first run: generated under .lgsp/dev/edxml-ca/, never
 * committed) with one demo signer, so the vendor guide's signed example works against the stack.
 * Without openssl the stack still runs; signed packages then verify as untrusted.
 */
function devSigningCa(dataDir: string): string {
  try {
    const ca = ensureTestSigningCa(join(dataDir, 'edxml-ca'));
    ca.signer('demo-signer', '/CN=Văn thư Văn phòng UBND tỉnh (DEMO)/O=Ủy ban nhân dân tỉnh H49 (DEMO)');
    return ca.caFile;
  } catch (err) {
    console.warn(`no demo signing CA (openssl: ${(err as Error).message.split('\n')[0]}); signed edXML packages will verify as untrusted`);
    return '';
  }
}
