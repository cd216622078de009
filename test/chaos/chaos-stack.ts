// The stack the fault proof runs against: N gateways, M runners, the audit service as leader +
// standby and the console, each its own OS process (kill -9 must hit a real process), on a
// 3-broker KRaft cluster (or the brokers in KAFKA_BROKERS) and a PostgreSQL server of its own,
// with every data directory kept so the whole stack can be stopped and started again. A crashed
// service is restarted by the same supervisor `npm start` uses; a service can also be held down
// (no restart) for a fault window. Every process it stops or kills is one it started itself.
import { kafkaSettingsFromEnv } from '../../services/platform/config.js';
import { createKafka } from '../../services/platform/kafka-transport.js';
import { provisionBusAcls } from '../../services/platform/kafka-acls.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { ensureKeys } from '../../services/platform/key-files.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { startLocalKafka, type LocalKafka } from '../../services/local-kafka/local-kafka.js';
import { startLocalPostgres, type LocalPostgres } from '../../services/local-postgres/local-postgres.js';
import { prepareDevRegistry, type DevClientFile } from '../../services/stack/dev-credentials.js';
import { superviseRestarts } from '../../services/stack/supervisor.js';
import { freePort } from '../../services/local-processes/free-port.js';
import { prepareDossierDemo } from '../../services/mock-portal/dev-setup.js';

export interface ChaosStackOptions {
  /** Everything the stack keeps (broker data, PostgreSQL data, keys, registry, logs). */
  dataDir: string;
  gateways: number;
  runners: number;
  /** 2 = leader + standby. */
  audits: number;
  console: boolean;
  /** Also run the mock DVCQG portal and the one-stop-shop connector (for the portal fault). */
  portal?: boolean;
  /** Where relay deliveries go (the chaos receiver). */
  receiverUrl: string;
  /** Use these brokers instead of starting a 3-node cluster (the CI test shares npm test's broker). */
  externalBrokers?: string;
  topicPrefix: string;
  /** Where each service's output goes (default <dataDir>/logs); kept after the run. */
  logDir?: string;
  /** Extra environment for every service (retry budget, log level, …). */
  env?: Record<string, string>;
  log: (line: string) => void;
}

interface ServiceEntry {
  name: string;
  script: string;
  port: number;
  env: Record<string, string>;
  child: ChildProcess;
  /** Held down on purpose: the supervisor must not restart it. */
  held: boolean;
  restarts: number;
  /** The end of its output, shown when it exits unexpectedly. */
  tail: string;
}

// Generous: on a two-core machine shared with other work a start can take a minute or more.
const SERVICE_READY_MS = 180_000;

export class ChaosStack {
  kafka: LocalKafka | null = null;
  postgres: LocalPostgres | null = null;
  readonly services = new Map<string, ServiceEntry>();
  clients = new Map<string, DevClientFile>();
  issuer = '';
  keysFile = '';
  private stopping = false;
  private logs = new Map<string, WriteStream>();
  private ports: Record<string, number> = {};

  constructor(readonly opts: ChaosStackOptions) {}

  get logDir(): string {
    return this.opts.logDir ?? join(this.opts.dataDir, 'logs');
  }

  get brokers(): string {
    return this.opts.externalBrokers ?? this.kafka!.bootstrap;
  }

  get databaseUrl(): string {
    return this.postgres!.url;
  }

  url(name: string): string {
    return `http://127.0.0.1:${this.service(name).port}`;
  }

  get gatewayUrls(): string[] {
    return [...this.services.values()].filter((s) => s.name.startsWith('gateway-')).map((s) => `http://127.0.0.1:${s.port}`);
  }

  service(name: string): ServiceEntry {
    const s = this.services.get(name);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  }

  /** Starts brokers, PostgreSQL and every service; a second call after stop() reuses all data. */
  async start(): Promise<void> {
    const { opts } = this;
    this.stopping = false;
    mkdirSync(this.logDir, { recursive: true });
    if (!opts.externalBrokers) {
      opts.log('starting a 3-broker KRaft cluster');
      this.kafka = await startLocalKafka({ nodes: 3, heapMb: 384, dataDir: join(opts.dataDir, 'kafka') });
    }
    opts.log('starting PostgreSQL');
    this.postgres = await startLocalPostgres({ dataDir: join(opts.dataDir, 'postgres'), throwaway: false });
    if (Object.keys(this.ports).length === 0) {
      // Ports are picked once: the issuer (first gateway) and the console's upstreams stay the
      // same across a whole-stack restart, as they would behind fixed DNS names.
      for (let i = 1; i <= opts.gateways; i++) this.ports[`gateway-${i}`] = await freePort();
      for (let i = 1; i <= opts.runners; i++) this.ports[`runner-${i}`] = await freePort();
      for (let i = 1; i <= opts.audits; i++) this.ports[`audit-${i}`] = await freePort();
      if (opts.console) this.ports.console = await freePort();
      if (opts.portal) this.ports['mock-portal'] = await freePort();
    }
    this.issuer = `http://127.0.0.1:${this.ports['gateway-1']}`;
    // Each service's private keys under keys/<service>/, the public keyset beside them (keysFile:
    // what `lgsp audit verify` is given — public keys only).
    const keysDir = join(opts.dataDir, 'keys');
    this.keysFile = join(opts.dataDir, 'public', 'jwks.json');
    await ensureKeys(keysDir, this.keysFile);
    const seeds = JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
    const prepared = await prepareDevRegistry({ seeds, dataDir: opts.dataDir, tokenUrl: `${this.issuer}/v1/token`, simulatorUrl: opts.receiverUrl });
    this.clients = prepared.clients;
    // Our own cluster: its CA and credentials; external brokers: the environment's settings.
    const kafkaSettings = this.kafka ? this.kafka.clientSettings() : { ...kafkaSettingsFromEnv(), kafkaBrokers: this.brokers.split(',') };
    await provisionBusAcls(kafkaSettings, opts.topicPrefix);
    const common: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...(this.kafka ? this.kafka.clientEnv() : {}),
      KAFKA_BROKERS: this.brokers,
      DATABASE_URL: this.databaseUrl,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_REGISTRY_FILE: prepared.registryFile,
      LGSP_KEYS_DIR: keysDir,
      LGSP_JWKS_FILE: this.keysFile,
      LGSP_ISSUER: this.issuer,
      LGSP_TOPIC_PREFIX: opts.topicPrefix,
      LGSP_RATE_LIMIT_PER_MINUTE: '1000000000',
      LGSP_CONNECTORS: 'relay',
      LOG_LEVEL: 'warn',
      ...opts.env,
    };
    // The portal demo wiring npm start uses: its account, the connector's config and secret.
    const dossier = opts.portal
      ? prepareDossierDemo({ dataDir: opts.dataDir, portalUrl: `http://127.0.0.1:${this.ports['mock-portal']}`, gatewayUrl: this.issuer, clientsDir: prepared.clientsDir })
      : null;
    if (dossier) Object.assign(common, { LGSP_CONNECTORS: 'relay,one-stop-shop' });
    const spec = (name: string, script: string, extra: Record<string, string> = {}) => {
      const dir = join(opts.dataDir, 'instances', name);
      mkdirSync(dir, { recursive: true });
      return { name, script, port: this.ports[name], env: { ...common, LGSP_DATA_DIR: dir, LGSP_INSTANCE_ID: name, ...extra } };
    };
    if (dossier) await this.launch(spec('mock-portal', 'services/mock-portal/main.js', dossier.portalEnv));
    // In two waves (replicas of a wave together): all seven at once starve each other on two
    // cores until Fastify's plugin timeout fires; one by one costs minutes.
    const waves = [
      [
        ...range(opts.audits).map((i) => spec(`audit-${i}`, 'services/audit/main.js')),
        ...range(opts.runners).map((i) => spec(`runner-${i}`, 'services/runner/main.js', dossier?.runnerEnv)),
      ],
      [
        ...range(opts.gateways).map((i) => spec(`gateway-${i}`, 'services/gateway/main.js')),
        ...(opts.console
          ? [spec('console', 'services/console/main.js', { LGSP_AUDIT_URL: `http://127.0.0.1:${this.ports['audit-1']}`, LGSP_RUNNER_URL: `http://127.0.0.1:${this.ports['runner-1']}`, LGSP_GATEWAY_URL: this.issuer })]
          : []),
      ],
    ];
    for (const wave of waves) await Promise.all(wave.map((s) => this.launch(s)));
  }

  private async launch(spec: { name: string; script: string; port: number; env: Record<string, string> }): Promise<void> {
    const existing = this.services.get(spec.name);
    const entry: ServiceEntry = existing ?? { ...spec, child: null as unknown as ChildProcess, held: false, restarts: 0, tail: '' };
    Object.assign(entry, { env: spec.env, held: false });
    entry.child = this.spawn(entry);
    this.services.set(entry.name, entry);
    this.supervise(entry);
    await this.waitHealthy(entry);
  }

  private spawn(entry: ServiceEntry): ChildProcess {
    let log = this.logs.get(entry.name);
    if (!log) {
      log = createWriteStream(join(this.logDir, `${entry.name}.log`), { flags: 'a' });
      this.logs.set(entry.name, log);
    }
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', entry.script)], { env: { ...entry.env, PORT: String(entry.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.stderr?.on('data', (d) => (entry.tail = (entry.tail + d).slice(-600)));
    return child;
  }

  private supervise(entry: ServiceEntry): void {
    superviseRestarts(entry, () => {
      entry.restarts++;
      return this.spawn(entry);
    }, {
      stopping: () => this.stopping || entry.held,
      say: (line) => this.opts.log(`${line}${/SIG/.test(line) ? '' : `; its last output: ${entry.tail.trim().split('\n').slice(-2).join(' / ')}`}`),
      firstDelayMs: 500,
    });
  }

  async waitHealthy(entry: ServiceEntry | string, path = '/healthz', timeoutMs = SERVICE_READY_MS): Promise<void> {
    const e = typeof entry === 'string' ? this.service(entry) : entry;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${e.port}${path}`, { signal: AbortSignal.timeout(2000) })).ok) return;
      } catch {
        /* starting or restarting */
      }
      await sleep(200);
    }
    throw new Error(`${e.name} not healthy after ${timeoutMs / 1000} s (log: ${join(this.logDir, `${e.name}.log`)})`);
  }

  /** kill -9 (or another signal): the supervisor restarts it after its backoff. */
  signal(name: string, signal: NodeJS.Signals): number {
    const entry = this.service(name);
    const pid = entry.child.pid!;
    entry.child.kill(signal);
    return pid;
  }

  /** Stops a service and keeps it down until release(). */
  async hold(name: string): Promise<void> {
    const entry = this.service(name);
    entry.held = true;
    await stopChild(entry.child);
  }

  async release(name: string): Promise<void> {
    const entry = this.service(name);
    await this.launch(entry);
  }

  /** kill -9 of broker i (0-based), then the same node started again on its data. */
  async killBroker(i: number): Promise<number> {
    const kafka = this.kafka!;
    const pid = kafka.pids[i];
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while (kafka.pids.includes(pid) && Date.now() < deadline) await sleep(100);
    return pid;
  }

  async restartBroker(i: number): Promise<void> {
    try {
      await this.kafka!.startNode(i);
    } catch (err) {
      // local-kafka gives a node 90 s; on a loaded box recovering its logs can take longer. The
      // node keeps starting: wait for the cluster to list it again rather than give up.
      if (this.kafka!.pids.length < 3) throw err;
      this.opts.log(`  broker ${i + 1} slow to start (${(err as Error).message.split('\n')[0]}); waiting for it`);
      const kafka = createKafka('chaos-probe', this.kafka!.clientSettings(), 'admin');
      const admin = kafka.admin();
      const deadline = Date.now() + SERVICE_READY_MS;
      try {
        await admin.connect();
        for (;;) {
          const { brokers } = await admin.describeCluster().catch(() => ({ brokers: [] as unknown[] }));
          if (brokers.length >= 3) break;
          if (Date.now() > deadline) throw err;
          await sleep(1000);
        }
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
  }

  /** Stops every service, then the brokers and PostgreSQL; data stays for start(). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.services.values()].reverse().map((s) => stopChild(s.child)));
    if (this.kafka) await this.kafka.stop();
    if (this.postgres) await this.postgres.stop();
    this.kafka = null;
    this.postgres = null;
  }

  /** Final stop: also closes the log files. */
  async close(): Promise<void> {
    await this.stop();
    for (const log of this.logs.values()) log.end();
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
