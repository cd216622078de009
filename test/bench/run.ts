// `npm run bench`: full-pipeline throughput and latency against this machine's own ceilings,
// in one run. See README "Performance" for what each figure means. Flags:
//   --quick        shorter phases (smoke run, figures are indicative only)
//   --sizes=1,10   payload sizes in KiB (default 1,10,100)
//   --skip-sustained
//   --scale-out    one then two gateways + two runners on a 3-broker cluster and PostgreSQL: throughput, loss, duplicates
//   --profile      write V8 CPU profiles of each service to test/bench/results/profiles/
//   --pg-statements  PostgreSQL's execution time per delivered message, statement by statement
//                  (pg_stat_statements on the bench's own server), in the max-accepted phases
//   --latency-at=150,300  only start the stack and measure accept and end-to-end latency at
//                  these open-loop rates (1 KiB): a short look at the tail without a full run
// Environment: BENCH_EXTRA_FLAGS_<process>="--flag …" (process: gateway, runner, audit) adds
// Node flags to that process's production flags, for experiments with one setting at a time.
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { kafkaSettingsFromEnv, loadConfig, type KafkaSettings } from '../../services/platform/config.js';
import { createKafka } from '../../services/platform/kafka-transport.js';
import { provisionBusAcls } from '../../services/platform/kafka-acls.js';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { ensureKeys } from '../../services/platform/key-files.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { startLocalKafka, type LocalKafka } from '../../services/local-kafka/local-kafka.js';
import { startLocalPostgres, type LocalPostgres } from '../../services/local-postgres/local-postgres.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { prepareDevRegistry } from '../../services/stack/dev-credentials.js';
import { BusClient } from '../../services/platform/bus-client.js';
import { freePort } from '../../services/local-processes/free-port.js';
import { cpuTimeMs, distScript, processTreeCpuMs, runLoad, startProcess, threadCpuDeltaMs, threadCpuMs, type ServiceProcess } from './processes.js';
import { measureKafkaCeiling } from './kafka-ceiling.js';
import type { LoadResult } from './load-generator.js';
import { runScaleOut } from './scale-out.js';
import { busCounts, perMessage, settledBusSnapshot } from './bus-counts.js';
import { sampleMemory } from './memory-sampler.js';
import { summariseProfiles } from './profile-summary.js';
import { measureEncryptionCost } from './payload-encryption.js';
import { nextSustainedRate, sustainedRateFound, sustainedVerdict } from './sustained-rule.js';
import { STATEMENT_STATISTICS_SETTINGS, StatementCosts } from './statement-costs.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const SIZES_KIB = (args.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '1,10,100').split(',').map(Number);
const PHASE = QUICK
  ? { ceiling: 5000, max: 6000, latency: 6000, sustain: 15000, warmup: 1000 }
  : { ceiling: 10_000, max: 15_000, latency: 20_000, sustain: 60_000, warmup: 2000 };
const CONNECTIONS = 32;
/** Warm-up rounds stop after this long even if the broker is still compiling. */
const WARM_UP_MAX_MS = QUICK ? 30_000 : 120_000;
const PG_STATEMENTS = args.includes('--pg-statements');
const LATENCY_AT = args.find((a) => a.startsWith('--latency-at='))?.slice(13).split(',').map(Number).filter((n) => n > 0) ?? [];
if (args.includes('--profile')) {
  process.env.BENCH_PROFILE_DIR = join(PROJECT_ROOT, 'test', 'bench', 'results', 'profiles');
  mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
}
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function submissionBody(sizeBytes: number): string {
  const base = {
    type: 'notice.send',
    to: { member: '000.00.15.H49', service: 'notice' },
    payload: { subject: 'Thông báo đo hiệu năng', body: '', attributes: { sentAt: '{{sentAt}}', seq: '{{seq}}' } },
  };
  const pad = Math.max(0, sizeBytes - Buffer.byteLength(JSON.stringify(base)) - 10);
  base.payload.body = 'x'.repeat(pad);
  return JSON.stringify(base);
}

interface SinkStats {
  unique: number;
  duplicates: number;
  e2eMs: Percentiles;
  /** Load generator's send to the envelope's time (HTTP, gateway intake). */
  intakeMs: Percentiles;
  /** The envelope's time to the sink's receipt (produce, broker, runner, delivery). */
  onwardMs: Percentiles;
}

interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

const splitText = (stats: SinkStats) => `(intake ${stats.intakeMs.p50}/${stats.intakeMs.p99}, onward ${stats.onwardMs.p50}/${stats.onwardMs.p99} ms p50/p99)`;

async function sinkStats(sink: ServiceProcess): Promise<SinkStats> {
  return (await (await fetch(`${sink.url}/stats`)).json()) as SinkStats;
}

async function resetSink(sink: ServiceProcess): Promise<void> {
  await fetch(`${sink.url}/reset`, { method: 'POST' });
}

/**
 * Records not yet committed by a group, over every topic of the run it has committed to (so it
 * holds whatever topics a service reads: the audit reads different topics as the layout changes).
 */
async function groupLag(admin: Admin, groupId: string, prefix: string): Promise<number> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  const committed = (await admin.fetchOffsets({ groupId, topics })).filter((t) => t.partitions.some((p) => Number(p.offset) >= 0));
  const lags = await Promise.all(
    committed.map(async (t) => {
      const done = new Map(t.partitions.map((p) => [p.partition, Number(p.offset)]));
      const ends = await admin.fetchTopicOffsets(t.topic);
      return ends.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)), 0);
    }),
  );
  return lags.reduce((a, b) => a + b, 0);
}

/** Waits until the sink has received `expected` messages (or the timeout passes). */
async function drain(sink: ServiceProcess, expected: number, timeoutMs: number): Promise<{ stats: SinkStats; drainMs: number }> {
  const started = Date.now();
  let stats = await sinkStats(sink);
  while (stats.unique < expected && Date.now() - started < timeoutMs) {
    await sleep(250);
    stats = await sinkStats(sink);
  }
  return { stats, drainMs: Date.now() - started };
}

/** The runner's first-attempt stages (lgsp_delivery_stage_seconds): seconds and attempts so far, by stage. */
async function deliveryStages(processes: ServiceProcess[]): Promise<{ seconds: Record<string, number>; count: Record<string, number> }> {
  const runners = processes.filter((p) => p.name === 'runner');
  return {
    seconds: await labelledMetricTotals(runners, 'lgsp_delivery_stage_seconds_sum', 'stage', (_service, stage) => stage),
    count: await labelledMetricTotals(runners, 'lgsp_delivery_stage_seconds_count', 'stage', (_service, stage) => stage),
  };
}

/** Mean ms per first attempt in each stage between two readings of deliveryStages. */
function stagesText(before: Awaited<ReturnType<typeof deliveryStages>>, after: Awaited<ReturnType<typeof deliveryStages>>): string {
  const mean = (stage: string) => {
    const n = (after.count[stage] ?? 0) - (before.count[stage] ?? 0);
    return n > 0 ? Math.round((((after.seconds[stage] ?? 0) - (before.seconds[stage] ?? 0)) / n) * 10_000) / 10 : 'n/a';
  };
  return `runner's stages, mean ms: gateway ${mean('gateway')}, fetch ${mean('fetch')}, queue ${mean('queue')}, destination ${mean('destination')}`;
}

/** A labelled counter of every bus service's /metrics (the sink's apart), summed into `keyOf(service, label)`. */
async function labelledMetricTotals(processes: ServiceProcess[], metric: string, label: string, keyOf: (service: string, value: string) => string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const p of processes.filter((q) => q.name !== 'sink')) {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
      const key = keyOf(p.name, new RegExp(`${label}="([^"]+)"`).exec(m[1])?.[1] ?? 'unknown');
      totals[key] = (totals[key] ?? 0) + Number(m[2]);
    }
  }
  return totals;
}

async function main(): Promise<void> {
  const started = Date.now();
  let kafka: LocalKafka | null = null;
  let brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    log('starting a local Kafka broker');
    // Secured like production (TLS, SCRAM, ACLs) unless LGSP_KAFKA_PLAINTEXT=1: that run is the
    // baseline for the cost of TLS.
    kafka = await startLocalKafka({ heapMb: 1024, plaintext: process.env.LGSP_KAFKA_PLAINTEXT === '1' });
    brokers = kafka.bootstrap;
  }
  const kafkaSettings: KafkaSettings = kafka ? kafka.clientSettings() : kafkaSettingsFromEnv();
  const kafkaEnv: Record<string, string> = kafka
    ? kafka.clientEnv()
    : Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => /^(KAFKA_|LGSP_KAFKA_)/.test(e[0]) && e[1] !== undefined));
  let postgres: LocalPostgres | null = null;
  let runDatabase: TestDatabase | null = null;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    // Durable settings (fsync on), as in production: the figures include PostgreSQL's commit cost.
    log('starting a local PostgreSQL');
    postgres = await startLocalPostgres({ throwaway: false, settings: PG_STATEMENTS ? STATEMENT_STATISTICS_SETTINGS : undefined });
    databaseUrl = postgres.url;
  } else {
    // A database of its own on that server: another run against the same server (or rows left by
    // an earlier one) must not share the audit's leadership lock, ledgers or chain with this one.
    runDatabase = await createTestDatabase('bench', databaseUrl);
    databaseUrl = runDatabase.url;
  }
  const processes: ServiceProcess[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-bench-'));
  const results: Record<string, unknown> = {};
  let statementCosts: StatementCosts | null = null;
  try {
    const prefix = `bench-${Date.now().toString(36)}.`;
    const keysDir = join(dataDir, 'keys');
    const jwksFile = join(keysDir, 'public', 'jwks.json');
    await ensureKeys(keysDir, jwksFile);
    const ports = { gateway: await freePort(), runner: await freePort(), audit: await freePort(), sink: await freePort(), ceiling: await freePort() };
    const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
    const sinkUrl = `http://127.0.0.1:${ports.sink}`;
    const seeds = JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
    const prepared = await prepareDevRegistry({ seeds, dataDir, tokenUrl: `${gatewayUrl}/v1/token`, simulatorUrl: sinkUrl });
    const env: Record<string, string> = {
      ...kafkaEnv,
      DATABASE_URL: databaseUrl,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_DATA_DIR: dataDir,
      LGSP_REGISTRY_FILE: prepared.registryFile,
      LGSP_KEYS_DIR: keysDir,
      LGSP_JWKS_FILE: jwksFile,
      LGSP_ISSUER: gatewayUrl,
      LOG_LEVEL: 'warn',
      // No load balancer in front of the bench's services: a stop needs no drain (service-main.ts).
      LGSP_SHUTDOWN_DRAIN_MS: '0',
      LGSP_TOPIC_PREFIX: prefix,
      LGSP_RATE_LIMIT_PER_MINUTE: '1000000000',
      LGSP_MAX_BODY_BYTES: String(2 * 1024 * 1024),
      LGSP_CONNECTORS: 'relay',
    };

    if (LATENCY_AT.length > 0) {
      await measureLatencyOnly(env, ports, gatewayUrl, prepared, kafkaSettings, prefix, processes, kafka?.pids ?? [], postgres?.pid);
      return;
    }

    // Ceiling A: bare Fastify + the same validation, same load tool and connection count.
    log('ceiling A: bare Fastify with the same schema validation');
    const ceilingServer = await startProcess('ceiling', distScript('test/bench/ceiling-fastify.js'), env, ports.ceiling);
    const ceilingA: Record<string, LoadResult> = {};
    for (const kib of SIZES_KIB) {
      ceilingA[`${kib}KiB`] = await runLoad<LoadResult>({
        url: ceilingServer.url, path: '/v1/messages', headers: { 'content-type': 'application/json' },
        body: submissionBody(kib * 1024), connections: CONNECTIONS, durationMs: PHASE.ceiling, warmupMs: PHASE.warmup,
      });
      log(`  ${kib} KiB: ${ceilingA[`${kib}KiB`].throughput} req/s`);
    }
    await ceilingServer.stop();

    // Ceiling B: raw kafkajs producer, acks=all, same batch size as the gateway's producer.
    log('ceiling B: raw kafkajs producer, acks=all, batches of 500');
    const ceilingB = await measureKafkaCeiling(kafkaSettings, `${prefix}ceiling-b`, 1024, 500, PHASE.ceiling);
    log(`  1 KiB: ${ceilingB.messagesPerSecond} msg/s`);

    await provisionBusAcls(kafkaSettings, prefix);
    log('starting the stack (sink, audit, runner, gateway) with logging at warn');
    const sink = await startProcess('sink', distScript('test/bench/sink.js'), env, ports.sink);
    const audit = await startProcess('audit', distScript('services/audit/main.js'), env, ports.audit);
    const runner = await startProcess('runner', distScript('services/runner/main.js'), env, ports.runner);
    const gateway = await startProcess('gateway', distScript('services/gateway/main.js'), env, ports.gateway);
    processes.push(sink, audit, runner, gateway);
    const memory = sampleMemory([gateway, runner, audit]);
    if (PG_STATEMENTS) {
      if (postgres) statementCosts = await StatementCosts.open(postgres.url);
      else log('--pg-statements needs the bench to start PostgreSQL itself (no DATABASE_URL): not measured');
    }
    // A fresh access token for every phase: a run outlives one (300 s), and a token that expired
    // mid-run made every later phase read "accepted 0/s" (the gateway answered 401).
    const headers = async () => ({ 'content-type': 'application/json', authorization: `Bearer ${await new BusClient(gatewayUrl, prepared.clients.get('so-tttt-qlvb')!).accessToken()}` });
    const admin = createKafka('bench-admin', kafkaSettings, 'admin').admin();
    await admin.connect();
    const relayLag = () => groupLag(admin, `${prefix}lgsp-connector-relay`, prefix);
    const { offsetCommitIntervalMs: commitIntervalMs } = loadConfig({}, env);
    // The audit reads the work topics and the event topic itself (no copy topic): its lag covers all it commits.
    const auditLag = () => groupLag(admin, `${prefix}lgsp-audit`, prefix);
    const ledgerLag = () => groupLag(admin, `${prefix}lgsp-ledger`, prefix);

    // Gateway maximum accepted throughput (closed loop), per payload size.
    const gatewayMax: Record<string, { accepted: LoadResult; delivered: number; duplicates: number; drainMs: number; cpuMsPerMessage: Record<string, number>; brokerJitMsPerMessage: number; recordsPerProduce: Record<string, number>; kafkaRequestsPerMessage: Record<string, number>; databaseStatementsPerMessage: Record<string, number>; gcMsPerMessage: Record<string, number>; recordsPerMessage: { written: number; read: number }; recordCounts: ReturnType<typeof busCounts> }> = {};
    // CPU time per delivered message, per process: a cost figure that holds even when the
    // machine is shared, unlike throughput.
    const cpuOf = () => ({
      ...Object.fromEntries(processes.map((p) => [p.name, cpuTimeMs(p.child.pid)])),
      ...(kafka ? { kafka: kafka.pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0) } : {}),
      // PostgreSQL's postmaster and backends, when the bench started it: work moved into the
      // database must not read as a gain.
      ...(postgres?.pid ? { postgres: processTreeCpuMs(postgres.pid) } : {}),
    });
    // The broker's JIT compiler threads: a fresh JVM spends minutes compiling its hot paths
    // (over half of the broker's CPU in a --quick run, 2026-12-01), a cost a long-running broker
    // no longer pays. Reported apart, inside the kafka figure, so steady state can be read off.
    const JIT_THREADS = /^C[12] CompilerThre/;
    const brokerJitOf = () => (kafka ? kafka.pids.map((pid) => threadCpuMs(pid, JIT_THREADS)) : []);
    const brokerJitSince = (before: ReturnType<typeof brokerJitOf>) => brokerJitOf().reduce((sum, after, i) => sum + threadCpuDeltaMs(before[i], after), 0);
    // Records per produce request, from each service's own counters: how far batching amortises
    // signatures, hashing and broker requests at this load.
    const metricsText = async (p: { url: string }) => (await fetch(`${p.url}/metrics`)).text();
    const produced = async () =>
      Object.fromEntries(
        await Promise.all(
          [gateway, runner].map(async (p) => {
            const text = await metricsText(p);
            const figure = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
            return [p.name, { records: figure('lgsp_kafka_produced_records_total'), batches: figure('lgsp_kafka_produced_batches_total') }] as const;
          }),
        ),
      );
    const labelledTotals = (metric: string, label: string, keyOf: (service: string, value: string) => string) => labelledMetricTotals(processes, metric, label, keyOf);
    // Kafka requests the bus services sent, by API, summed over services: the broker works per
    // request far more than per record.
    const kafkaRequests = () => labelledTotals('lgsp_kafka_requests_total', 'api', (_service, api) => api);
    // PostgreSQL statements the bus services sent, by service and pool (the runner's ledger has
    // its own): each one a round trip, which on this machine kind costs more than the rows it carries.
    const databaseStatements = () => labelledTotals('lgsp_db_statements_total', 'pool', (service, pool) => (pool === 'shared' ? service : `${service} ${pool}`));
    // Main-thread garbage collection pauses (prom-client's histogram, all kinds), ms by service:
    // what a heap setting costs in CPU, read apart from the machine's speed of the moment.
    const gcMs = async () => Object.fromEntries(Object.entries(await labelledTotals('nodejs_gc_duration_seconds_sum', 'kind', (service) => service)).map(([k, s]) => [k, s * 1000]));
    const perDeliveredMessage = (before: Record<string, number>, after: Record<string, number>, messages: number) =>
      Object.fromEntries(
        Object.keys(after)
          .map((api) => [api, Math.round(((after[api] - (before[api] ?? 0)) / Math.max(1, messages)) * 1000) / 1000] as const)
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1]),
      );
    const perProduce = (before: Awaited<ReturnType<typeof produced>>, after: Awaited<ReturnType<typeof produced>>) =>
      Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k].records - before[k].records) / Math.max(1, after[k].batches - before[k].batches)) * 10) / 10]));
    // A fresh broker spends minutes compiling its hot paths (so do the Node services, less so):
    // measured cold, the first 1 KiB phase read the broker 40% dearer per message, and the bus
    // 20%, than the same phase run again right after it (2026-12-01, --sizes=1,1), and a sample
    // of the broker's threads found its JIT compiler threads at over half of its CPU through a
    // whole --quick run. The figures are meant for a bus in steady state, so it is loaded,
    // unmeasured, in rounds until the broker's compiler threads take under a tenth of its CPU
    // (bounded: WARM_UP_MAX_MS), or for one round when the bench did not start the broker.
    const brokerCpu = () => (kafka ? kafka.pids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0) : 0);
    const warmUpStarted = Date.now();
    for (let round = 1; ; round++) {
      log(`warming the stack, round ${round}: ${PHASE.max / 1000} s of 1 KiB closed-loop load, not measured`);
      await resetSink(sink);
      const [jitBefore, cpuBefore] = [brokerJitOf(), brokerCpu()];
      const warmUp = await runLoad<LoadResult>({ url: gatewayUrl, path: '/v1/messages', headers: await headers(), body: submissionBody(1024), connections: CONNECTIONS, durationMs: PHASE.max, warmupMs: PHASE.warmup });
      await drain(sink, warmUp.allOk, 120_000);
      if (!kafka) break;
      const jitShare = brokerJitSince(jitBefore) / Math.max(1, brokerCpu() - cpuBefore);
      log(`  the broker's JIT compiler threads: ${Math.round(jitShare * 100)}% of its CPU (${warmUp.throughput} accepted/s)`);
      if (jitShare < 0.1 || Date.now() - warmUpStarted > WARM_UP_MAX_MS) break;
    }
    for (const kib of SIZES_KIB) {
      await resetSink(sink);
      const cpuBefore: Record<string, number> = cpuOf();
      const jitBefore = brokerJitOf();
      const producedBefore = await produced();
      const requestsBefore = await kafkaRequests();
      const statementsBefore = await databaseStatements();
      const gcBefore = await gcMs();
      const busBefore = await settledBusSnapshot(admin, prefix);
      await statementCosts?.reset();
      log(`gateway max accepted, ${kib} KiB, closed loop, ${CONNECTIONS} connections`);
      const accepted = await runLoad<LoadResult>({ url: gatewayUrl, path: '/v1/messages', headers: await headers(), body: submissionBody(kib * 1024), connections: CONNECTIONS, durationMs: PHASE.max, warmupMs: PHASE.warmup });
      const { stats, drainMs } = await drain(sink, accepted.allOk, 120_000);
      const cpuAfter: Record<string, number> = cpuOf();
      const jitMs = brokerJitSince(jitBefore);
      const perMessageMs = (ms: number) => Math.round((ms / Math.max(1, stats.unique)) * 1000) / 1000;
      const cpuMsPerMessage = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, perMessageMs(cpuAfter[k] - cpuBefore[k])]));
      const brokerJitMsPerMessage = perMessageMs(jitMs);
      const recordsPerProduce = perProduce(producedBefore, await produced());
      const kafkaRequestsPerMessage = perDeliveredMessage(requestsBefore, await kafkaRequests(), stats.unique);
      const databaseStatementsPerMessage = perDeliveredMessage(statementsBefore, await databaseStatements(), stats.unique);
      const gcMsPerMessage = perDeliveredMessage(gcBefore, await gcMs(), stats.unique);
      // Records written to and read from Kafka per delivered message, counted on the broker.
      const recordCounts = busCounts(busBefore, await settledBusSnapshot(admin, prefix));
      const recordsPerMessage = perMessage(recordCounts, stats.unique);
      gatewayMax[`${kib}KiB`] = { accepted, delivered: stats.unique, duplicates: stats.duplicates, drainMs, cpuMsPerMessage, brokerJitMsPerMessage, recordsPerProduce, kafkaRequestsPerMessage, databaseStatementsPerMessage, gcMsPerMessage, recordsPerMessage, recordCounts };
      log(`  CPU ms per message: ${JSON.stringify(cpuMsPerMessage)} (of the broker's, JIT compiling at least ${brokerJitMsPerMessage}); records per produce: ${JSON.stringify(recordsPerProduce)}`);
      log(`  Kafka requests per delivered message, all services: ${JSON.stringify(kafkaRequestsPerMessage)}`);
      log(`  PostgreSQL statements per delivered message, by service: ${JSON.stringify(databaseStatementsPerMessage)}`);
      log(`  garbage collection pauses, ms per delivered message, by service: ${JSON.stringify(gcMsPerMessage)}`);
      log(`  records per delivered message: written ${recordsPerMessage.written}, read ${recordsPerMessage.read} (${JSON.stringify(recordCounts.writtenByTopic)}; ${JSON.stringify(recordCounts.readByGroup)})`);
      log(`  accepted ${accepted.throughput}/s (p99 ${accepted.latencyMs.p99} ms, statuses ${JSON.stringify(accepted.statuses)}), delivered ${stats.unique}/${accepted.allOk}, drained ${drainMs} ms after the load`);
      if (statementCosts) {
        const costs = await statementCosts.perMessage(stats.unique);
        log(`  PostgreSQL execution time per delivered message: ${costs.totalExecUsPerMessage} µs; by statement (µs, calls, rows, blocks dirtied per message):`);
        for (const c of costs.statements) log(`    ${c.execUsPerMessage} µs  ${c.callsPerMessage} calls  ${c.rowsPerMessage} rows  ${c.blocksDirtiedPerMessage} dirtied  ${c.statement}`);
        log(`  updates per delivered message, and the share that were HOT: ${(await statementCosts.updatesPerMessage(stats.unique)).map((u) => `${u.table} ${u.updatesPerMessage} (${u.hotShare})`).join(', ')}`);
      }
    }
    const max1k = gatewayMax['1KiB']?.accepted.throughput ?? gatewayMax[Object.keys(gatewayMax)[0]].accepted.throughput;

    // Latency at fixed arrival rates (open loop), 1 KiB.
    const latency: Record<string, unknown> = {};
    for (const share of [0.25, 0.5, 0.75]) {
      const rate = Math.max(1, Math.round(max1k * share));
      await resetSink(sink);
      log(`latency at ${share * 100}% of max = ${rate}/s (open loop)`);
      const accepted = await runLoad<LoadResult>({ url: gatewayUrl, path: '/v1/messages', headers: await headers(), body: submissionBody(1024), connections: CONNECTIONS * 4, durationMs: PHASE.latency, warmupMs: PHASE.warmup, rate });
      const { stats } = await drain(sink, accepted.allOk, 60_000);
      latency[`${share * 100}%`] = { rate, accept: accepted.latencyMs, endToEnd: stats.e2eMs, accepted: accepted.ok2xx, delivered: stats.unique };
      log(`  accept p50/p99/p99.9 ${accepted.latencyMs.p50}/${accepted.latencyMs.p99}/${accepted.latencyMs.p999} ms; end-to-end ${stats.e2eMs.p50}/${stats.e2eMs.p99}/${stats.e2eMs.p999} ms ${splitText(stats)}`);
    }

    // Sustained: the highest rate at which accepted = delivered for the whole phase and lag stays flat.
    let sustained: Record<string, unknown> | null = null;
    if (!args.includes('--skip-sustained')) {
      const tried: Array<{ rate: number; sustained: boolean }> = [];
      for (let rate = nextSustainedRate(max1k, tried); rate !== null; rate = nextSustainedRate(max1k, tried)) {
        // A rate that was not sustained leaves a backlog: the next, lower rate starts once the
        // relay has caught up (bounded), or it would inherit the backlog and read as not flat.
        const backlog = await relayLag().catch(() => 0);
        if (backlog > 0) {
          const waitUntil = Date.now() + 120_000;
          while (Date.now() < waitUntil && (await relayLag().catch(() => 0)) > 0) await new Promise((r) => setTimeout(r, 1000));
          log(`  waited for the relay to catch up with ${backlog} records left from the previous rate`);
        }
        await resetSink(sink);
        log(`sustained at ${rate}/s for ${PHASE.sustain / 1000} s`);
        const lagSamples: number[] = [];
        const auditLagSamples: number[] = [];
        const sampler = setInterval(() => {
          void relayLag().then((l) => lagSamples.push(l)).catch(() => undefined);
          void auditLag().then((l) => auditLagSamples.push(l)).catch(() => undefined);
        }, 5000);
        const accepted = await runLoad<LoadResult>({ url: gatewayUrl, path: '/v1/messages', headers: await headers(), body: submissionBody(1024), connections: CONNECTIONS * 4, durationMs: PHASE.sustain, warmupMs: PHASE.warmup, rate });
        clearInterval(sampler);
        const { stats, drainMs } = await drain(sink, accepted.allOk, 15_000);
        const verdict = sustainedVerdict({ rate, acceptedPerSecond: accepted.throughput, ok2xx: accepted.ok2xx, completed: accepted.completed, errors: accepted.errors, accepted: accepted.allOk, delivered: stats.unique, drainMs, relayLagSamples: lagSamples, commitIntervalMs });
        log(`  accepted ${accepted.throughput}/s (statuses ${JSON.stringify(accepted.statuses)}, errors ${accepted.errors}), delivered ${stats.unique}/${accepted.allOk} (drain ${drainMs} ms), relay lag samples ${lagSamples.join(',')}, audit lag ${auditLagSamples.join(',')}`);
        const entry = { rate, acceptedPerSecond: accepted.throughput, delivered: stats.unique, accepted: accepted.allOk, duplicates: stats.duplicates, drainMs, relayLagSamples: lagSamples, auditLagSamples, endToEnd: stats.e2eMs, accept: accepted.latencyMs };
        tried.push({ rate, sustained: verdict.sustained });
        if (verdict.sustained && rate === sustainedRateFound(tried)) {
          sustained = { ...entry, deliveredPerSecond: Math.round((stats.unique / (PHASE.sustain + PHASE.warmup)) * 1000) };
        }
        log(verdict.sustained ? '  sustained' : `  not sustained (${verdict.reasons.join('; ')})`);
      }
    }

    // End-to-end p99 at 50% of the sustained maximum (the target's definition).
    let atHalfSustained: Record<string, unknown> | null = null;
    if (sustained) {
      const rate = Math.max(1, Math.round((sustained.rate as number) * 0.5));
      // Latency at a rate is a steady-state figure: the phase starts once the relay, the ledger
      // and the audit have consumed what the sustained steps (some of them above what the bus
      // sustains) left behind, not while they still catch up (bounded, logged).
      const settleStarted = Date.now();
      const backlogs = async () => Promise.all([relayLag(), ledgerLag(), auditLag()].map((p) => p.catch(() => 0)));
      let left = await backlogs();
      while (left.some((n) => n > 0) && Date.now() - settleStarted < 120_000) {
        await new Promise((r) => setTimeout(r, 1000));
        left = await backlogs();
      }
      log(`  waited ${Date.now() - settleStarted} ms for the consumers to settle (relay, ledger, audit lag now ${left.join(', ')})`);
      await resetSink(sink);
      const stagesBefore = await deliveryStages(processes);
      log(`end-to-end latency at 50% of sustained = ${rate}/s`);
      const accepted = await runLoad<LoadResult>({ url: gatewayUrl, path: '/v1/messages', headers: await headers(), body: submissionBody(1024), connections: CONNECTIONS * 4, durationMs: PHASE.latency, warmupMs: PHASE.warmup, rate });
      const { stats } = await drain(sink, accepted.allOk, 30_000);
      atHalfSustained = { rate, accept: accepted.latencyMs, endToEnd: stats.e2eMs };
      log(`  end-to-end p50/p99/p99.9 ${stats.e2eMs.p50}/${stats.e2eMs.p99}/${stats.e2eMs.p999} ms ${splitText(stats)}`);
      log(`  ${stagesText(stagesBefore, await deliveryStages(processes))}`);
    }
    await admin.disconnect();

    const rss = Object.fromEntries(processes.map((p) => [p.name, p.peakRssMb()]));
    const memoryPeaksMb = memory.stop();
    const ceilingA1k = ceilingA['1KiB']?.throughput ?? Object.values(ceilingA)[0].throughput;
    Object.assign(results, {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, quick: QUICK },
      at: new Date().toISOString(),
      connections: CONNECTIONS,
      // In-process micro-bench (payload-encryption.ts): seal + open CPU per 1 KiB payload.
      payloadEncryption: measureEncryptionCost(),
      ceilingA: Object.fromEntries(Object.entries(ceilingA).map(([k, v]) => [k, { requestsPerSecond: v.throughput, latencyMs: v.latencyMs }])),
      ceilingB,
      gatewayMax: Object.fromEntries(Object.entries(gatewayMax).map(([k, v]) => [k, { acceptedPerSecond: v.accepted.throughput, acceptLatencyMs: v.accepted.latencyMs, statuses: v.accepted.statuses, delivered: v.delivered, accepted: v.accepted.allOk, duplicates: v.duplicates, drainMs: v.drainMs, cpuMsPerMessage: v.cpuMsPerMessage, brokerJitMsPerMessage: v.brokerJitMsPerMessage, recordsPerProduce: v.recordsPerProduce, kafkaRequestsPerMessage: v.kafkaRequestsPerMessage, databaseStatementsPerMessage: v.databaseStatementsPerMessage, gcMsPerMessage: v.gcMsPerMessage, recordsPerMessage: v.recordsPerMessage, recordCounts: v.recordCounts }])),
      ratioToCeilingA: Math.round((max1k / ceilingA1k) * 1000) / 1000,
      ratioToCeilingAPerSize: Object.fromEntries(Object.keys(gatewayMax).map((k) => [k, Math.round((gatewayMax[k].accepted.throughput / ceilingA[k].throughput) * 1000) / 1000])),
      sustained,
      sustainedRatioToCeilingA: sustained ? Math.round(((sustained.rate as number) / ceilingA1k) * 1000) / 1000 : null,
      latency,
      endToEndAtHalfSustained: atHalfSustained,
      peakRssMb: rss,
      memoryPeaksMb,
      targets: {
        maxAcceptedAtLeast40PercentOfCeilingA: max1k / ceilingA1k >= 0.4,
        sustainedAtLeast25PercentOfCeilingA: sustained ? (sustained.rate as number) / ceilingA1k >= 0.25 : false,
        endToEndP99AtHalfSustainedAtMost50ms: atHalfSustained ? (atHalfSustained.endToEnd as { p99: number }).p99 <= 50 : false,
        gatewayRssAtMost200MB: (rss.gateway ?? Infinity) <= 200,
      },
      durationSeconds: Math.round((Date.now() - started) / 1000),
    });
    const outDir = join(PROJECT_ROOT, 'test', 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
    printTable(results);
  } finally {
    await statementCosts?.close().catch(() => undefined);
    for (const p of processes.reverse()) await p.stop();
    // Each service wrote its profile as it exited.
    if (process.env.BENCH_PROFILE_DIR && processes.length > 0) {
      try {
        process.stdout.write(`\nCPU profiles (${process.env.BENCH_PROFILE_DIR}, summary.txt):\n${summariseProfiles(process.env.BENCH_PROFILE_DIR, ['gateway', 'runner', 'audit'])}\n`);
      } catch (err) {
        log(`profile summary failed: ${(err as Error).message}`);
      }
    }
    if (kafka) await kafka.stop();
    if (postgres) await postgres.stop();
    await runDatabase?.drop().catch((err: Error) => log(`could not drop the run's database: ${err.message}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** --latency-at: the stack alone, open-loop load at each given rate, latency and CPU per message. */
async function measureLatencyOnly(
  env: Record<string, string>,
  ports: Record<'gateway' | 'runner' | 'audit' | 'sink', number>,
  gatewayUrl: string,
  prepared: Awaited<ReturnType<typeof prepareDevRegistry>>,
  kafkaSettings: KafkaSettings,
  prefix: string,
  processes: ServiceProcess[],
  kafkaPids: number[],
  postgresPid: number | undefined,
): Promise<void> {
  await provisionBusAcls(kafkaSettings, prefix);
  const sink = await startProcess('sink', distScript('test/bench/sink.js'), env, ports.sink);
  const audit = await startProcess('audit', distScript('services/audit/main.js'), env, ports.audit);
  const runner = await startProcess('runner', distScript('services/runner/main.js'), env, ports.runner);
  const gateway = await startProcess('gateway', distScript('services/gateway/main.js'), env, ports.gateway);
  processes.push(sink, audit, runner, gateway);
  const headers = async () => ({ 'content-type': 'application/json', authorization: `Bearer ${await new BusClient(gatewayUrl, prepared.clients.get('so-tttt-qlvb')!).accessToken()}` });
  // The broker's CPU only when the bench started it (a shared broker serves others too).
  const admin = createKafka('bench-admin', kafkaSettings, 'admin').admin();
  await admin.connect();
  // Every committed partition offset is a record on __consumer_offsets: its growth counts the
  // commits' broker writes (all groups: meaningful on a broker of the bench's own).
  const offsetCommits = async () => (await admin.fetchTopicOffsets('__consumer_offsets')).reduce((sum, p) => sum + Number(p.high), 0);
  const cpuOf = (): Record<string, number> => ({
    ...Object.fromEntries(processes.map((p) => [p.name, cpuTimeMs(p.child.pid)])),
    ...(kafkaPids.length > 0 ? { kafka: kafkaPids.reduce((sum, pid) => sum + cpuTimeMs(pid), 0) } : {}),
    ...(postgresPid ? { postgres: processTreeCpuMs(postgresPid) } : {}),
  });
  // Kafka requests and PostgreSQL statements by service: at moderate rates a batch holds one
  // message or few, so what each process sends per batch is what a message costs.
  const roundTrips = async (): Promise<Record<string, number>> => ({
    ...(await labelledMetricTotals(processes, 'lgsp_kafka_requests_total', 'api', (service, api) => `${service} kafka ${api}`)),
    ...(await labelledMetricTotals(processes, 'lgsp_db_statements_total', 'pool', (service, pool) => `${service} sql ${pool}`)),
  });
  // What the stack costs with no traffic at all (polls, heartbeats, timers): at low rates this is
  // shared among few messages and shows up as CPU per message.
  const idleBefore = cpuOf();
  const idleRoundTripsBefore = await roundTrips();
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const idleAfter = cpuOf();
  const idleRoundTripsAfter = await roundTrips();
  log(`idle Kafka requests and SQL statements per second, by service: ${Object.entries(idleRoundTripsAfter).map(([key, n]) => [key, Math.round((n - (idleRoundTripsBefore[key] ?? 0)) / 10)] as const).filter(([, perSecond]) => perSecond > 0).map(([key, perSecond]) => `${key} ${perSecond}`).join(', ')}`);
  log(`idle CPU ms per second: ${JSON.stringify(Object.fromEntries(Object.keys(idleAfter).map((k) => [k, Math.round((idleAfter[k] - idleBefore[k]) / 10)])))}`);
  for (const rate of LATENCY_AT) {
    await resetSink(sink);
    const before = cpuOf();
    const commitsBefore = await offsetCommits();
    const roundTripsBefore = await roundTrips();
    const stagesBefore = await deliveryStages(processes);
    log(`latency at ${rate}/s (open loop, 1 KiB)`);
    const accepted = await runLoad<LoadResult>({ url: gatewayUrl, path: '/v1/messages', headers: await headers(), body: submissionBody(1024), connections: CONNECTIONS * 4, durationMs: PHASE.latency, warmupMs: PHASE.warmup, rate });
    const { stats } = await drain(sink, accepted.allOk, 30_000);
    const after = cpuOf();
    const commits = (await offsetCommits()) - commitsBefore;
    const cpu = Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k] - before[k]) / Math.max(1, stats.unique)) * 1000) / 1000]));
    log(`  accept p50/p99/p99.9 ${accepted.latencyMs.p50}/${accepted.latencyMs.p99}/${accepted.latencyMs.p999} ms; end-to-end p50/p99/p99.9/max ${stats.e2eMs.p50}/${stats.e2eMs.p99}/${stats.e2eMs.p999}/${stats.e2eMs.max} ms; delivered ${stats.unique}/${accepted.allOk}, duplicates ${stats.duplicates}`);
    log(`  end-to-end split at the envelope's time ${splitText(stats)}; ${stagesText(stagesBefore, await deliveryStages(processes))}`);
    const roundTripsAfter = await roundTrips();
    const perMessageRoundTrips = Object.entries(roundTripsAfter)
      .map(([key, n]) => [key, Math.round(((n - (roundTripsBefore[key] ?? 0)) / Math.max(1, stats.unique)) * 1000) / 1000] as const)
      .filter(([, n]) => n >= 0.01);
    log(`  Kafka requests and SQL statements per message, by service: ${perMessageRoundTrips.map(([key, n]) => `${key} ${n}`).join(', ')}`);
    log(`  CPU ms per message: ${JSON.stringify(cpu)}; offset commit records per message ${Math.round((commits / Math.max(1, stats.unique)) * 1000) / 1000}${kafkaPids.length > 0 ? '' : ' (shared broker: all its groups)'}`);
  }
  await admin.disconnect();
}

/** The issue's floor is on the bus's CPU per message summed over its processes; the sink is the receiver, not the bus. */
function busCpuTotal(cpuMsPerMessage: Record<string, number>): number {
  const total = Object.entries(cpuMsPerMessage).reduce((sum, [name, ms]) => (name === 'sink' ? sum : sum + ms), 0);
  return Math.round(total * 1000) / 1000;
}

function printTable(r: Record<string, any>): void {
  const rows: [string, string][] = [
    ['machine', `${r.machine.cpus} vCPU ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}${r.machine.quick ? ' (QUICK run)' : ''}`],
    ...Object.entries(r.ceilingA).map(([k, v]: [string, any]) => [`ceiling A (bare Fastify+ajv) ${k}`, `${v.requestsPerSecond} req/s`] as [string, string]),
    ['ceiling B (kafkajs acks=all, 1 KiB)', `${r.ceilingB.messagesPerSecond} msg/s`],
    ...Object.entries(r.gatewayMax).map(([k, v]: [string, any]) => [`gateway max accepted ${k}`, `${v.acceptedPerSecond} msg/s (accept p99 ${v.acceptLatencyMs.p99} ms; delivered ${v.delivered}/${v.accepted})`] as [string, string]),
    ...Object.entries(r.gatewayMax).map(([k, v]: [string, any]) => [`  CPU ms/msg, records/msg ${k}`, `${Object.entries(v.cpuMsPerMessage).map(([p, ms]) => `${p} ${ms}`).join(', ')}; bus total (sink excluded) ${busCpuTotal(v.cpuMsPerMessage)}, without the broker's JIT compiling ${Math.round((busCpuTotal(v.cpuMsPerMessage) - v.brokerJitMsPerMessage) * 1000) / 1000}; written ${v.recordsPerMessage.written}, read ${v.recordsPerMessage.read}`] as [string, string]),
    ...Object.entries(r.gatewayMax).map(([k, v]: [string, any]) => [`  Kafka requests/msg ${k}`, Object.entries(v.kafkaRequestsPerMessage ?? {}).map(([api, n]) => `${api} ${n}`).join(', ')] as [string, string]),
    ...Object.entries(r.gatewayMax).map(([k, v]: [string, any]) => [`  PostgreSQL statements/msg ${k}`, Object.entries(v.databaseStatementsPerMessage ?? {}).map(([service, n]) => `${service} ${n}`).join(', ')] as [string, string]),
    ...Object.entries(r.gatewayMax).map(([k, v]: [string, any]) => [`  GC pauses ms/msg ${k}`, Object.entries(v.gcMsPerMessage ?? {}).map(([service, n]) => `${service} ${n}`).join(', ')] as [string, string]),
    ['ratio to ceiling A (1 KiB)', String(r.ratioToCeilingA)],
    ['sustained (delivered = accepted, flat lag)', r.sustained ? `${r.sustained.rate} msg/s → ratio ${r.sustainedRatioToCeilingA}` : 'not found'],
    ...Object.entries(r.latency).map(([k, v]: [string, any]) => [`latency at ${k} of max (${v.rate}/s)`, `accept p50/p99/p99.9 ${v.accept.p50}/${v.accept.p99}/${v.accept.p999} ms; e2e ${v.endToEnd.p50}/${v.endToEnd.p99}/${v.endToEnd.p999} ms`] as [string, string]),
    ['e2e at 50% of sustained', r.endToEndAtHalfSustained ? `p50/p99/p99.9 ${r.endToEndAtHalfSustained.endToEnd.p50}/${r.endToEndAtHalfSustained.endToEnd.p99}/${r.endToEndAtHalfSustained.endToEnd.p999} ms` : 'n/a'],
    ...(r.payloadEncryption ?? []).map((e: any) => [`payload encryption, CEK per ${e.sessionRecords}`, `seal ${e.sealUs.toFixed(1)} µs + open ${e.openUs.toFixed(1)} µs CPU per 1 KiB`] as [string, string]),
    ['peak RSS (MB)', Object.entries(r.peakRssMb).map(([k, v]) => `${k} ${v}`).join(', ')],
    ...Object.entries(r.memoryPeaksMb).map(([k, v]) => [`  ${k} peaks (MB)`, Object.entries(v as Record<string, number>).map(([part, mb]) => `${part} ${mb}`).join(', ')] as [string, string]),
    ['targets', Object.entries(r.targets).map(([k, v]) => `${k}: ${v ? 'met' : 'MISSED'}`).join('\n' + ' '.repeat(46))],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  process.stdout.write('\n' + rows.map(([k, v]) => k.padEnd(width) + v).join('\n') + '\n\nresults: test/bench/results/latest.json\n');
}

if (args.includes('--scale-out')) {
  const r = await runScaleOut({ durationMs: QUICK ? 10_000 : 30_000, body: submissionBody(1024), connections: CONNECTIONS });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  if ((r.lost as number) > 0) process.exitCode = 1;
} else {
  await main();
}
