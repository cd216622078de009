// Scale-out check (`npm run bench -- --scale-out`): two gateway processes and two runner
// instances (one consumer group) against a 3-broker KRaft cluster on loopback, replication
// factor 3 and min.insync.replicas 2, sharing one PostgreSQL. Load goes to one gateway, then to
// both at once; afterwards every accepted message must have reached the sink exactly once.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { ensureKeys } from '../../services/platform/key-files.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { startLocalKafka } from '../../services/local-kafka/local-kafka.js';
import { provisionBusAcls } from '../../services/platform/kafka-acls.js';
import { startLocalPostgres } from '../../services/local-postgres/local-postgres.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { prepareDevRegistry } from '../../services/stack/dev-credentials.js';
import { BusClient } from '../../services/platform/bus-client.js';
import { freePort } from '../../services/local-processes/free-port.js';
import { distScript, runLoad, startProcess, type ServiceProcess } from './processes.js';
import type { LoadResult } from './load-generator.js';

const log = (line: string) => process.stderr.write(`[bench:scale-out] ${line}\n`);

export async function runScaleOut(opts: { durationMs: number; body: string; connections: number }): Promise<Record<string, unknown>> {
  log('starting a 3-broker KRaft cluster');
  const kafka = await startLocalKafka({ nodes: 3, heapMb: 512 });
  log('starting PostgreSQL');
  const postgres = process.env.DATABASE_URL ? null : await startLocalPostgres({ throwaway: false });
  // On a server given by DATABASE_URL, a database of its own (as the main bench does).
  const runDatabase = process.env.DATABASE_URL ? await createTestDatabase('bench_scale', process.env.DATABASE_URL) : null;
  const root = mkdtempSync(join(tmpdir(), 'lgsp-scale-'));
  const processes: ServiceProcess[] = [];
  try {
    const keysDir = join(root, 'keys');
    const jwksFile = join(keysDir, 'public', 'jwks.json');
    await ensureKeys(keysDir, jwksFile);
    const ports = { gw1: await freePort(), gw2: await freePort(), r1: await freePort(), r2: await freePort(), audit: await freePort(), sink: await freePort() };
    const issuer = `http://127.0.0.1:${ports.gw1}`;
    const seeds = JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
    const prepared = await prepareDevRegistry({ seeds, dataDir: root, tokenUrl: `${issuer}/v1/token`, simulatorUrl: `http://127.0.0.1:${ports.sink}` });
    const prefix = `scale-${Date.now().toString(36)}.`;
    await provisionBusAcls(kafka.clientSettings(), prefix);
    const common: Record<string, string> = {
      ...kafka.clientEnv(),
      DATABASE_URL: postgres?.url ?? runDatabase!.url,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_REGISTRY_FILE: prepared.registryFile,
      LGSP_KEYS_DIR: keysDir,
      LGSP_JWKS_FILE: jwksFile,
      LGSP_ISSUER: issuer,
      LOG_LEVEL: 'warn',
      // No load balancer in front of the bench's services: a stop needs no drain (service-main.ts).
      LGSP_SHUTDOWN_DRAIN_MS: '0',
      LGSP_TOPIC_PREFIX: prefix,
      LGSP_RATE_LIMIT_PER_MINUTE: '1000000000',
      LGSP_CONNECTORS: 'relay',
    };
    // Each instance has its own local directory, as it would on its own machine; shared state is
    // in PostgreSQL.
    const dirFor = (name: string) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      return { ...common, LGSP_DATA_DIR: dir };
    };
    const sink = await startProcess('sink', distScript('test/bench/sink.js'), common, ports.sink);
    processes.push(sink);
    processes.push(await startProcess('audit', distScript('services/audit/main.js'), dirFor('audit'), ports.audit));
    processes.push(await startProcess('runner-1', distScript('services/runner/main.js'), dirFor('runner-1'), ports.r1));
    processes.push(await startProcess('runner-2', distScript('services/runner/main.js'), dirFor('runner-2'), ports.r2));
    const gw1 = await startProcess('gateway-1', distScript('services/gateway/main.js'), { ...dirFor('gateway-1'), LGSP_INSTANCE_ID: 'gw1' }, ports.gw1);
    const gw2 = await startProcess('gateway-2', distScript('services/gateway/main.js'), { ...dirFor('gateway-2'), LGSP_INSTANCE_ID: 'gw2' }, ports.gw2);
    processes.push(gw1, gw2);
    const token = await new BusClient(issuer, prepared.clients.get('so-tttt-qlvb')!).accessToken();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

    // A fresh cluster and fresh processes: the first seconds pay for JIT, topic metadata, group
    // joins and partition leadership settling. Without this warm-up through both gateways the
    // one-gateway phase (measured first) came out far below the single-stack bench (84/s).
    log('warm-up through both gateways for 10 s (not counted)');
    const warmups = await Promise.all(
      [gw1, gw2].map((gw) => runLoad<LoadResult>({ url: gw.url, path: '/v1/messages', headers, body: opts.body, connections: opts.connections, durationMs: 10_000, warmupMs: 0 })),
    );
    log(`load on one gateway for ${opts.durationMs / 1000} s`);
    const single = await runLoad<LoadResult>({ url: gw1.url, path: '/v1/messages', headers, body: opts.body, connections: opts.connections, durationMs: opts.durationMs, warmupMs: 1000 });
    log(`  ${single.throughput}/s`);
    log(`load on both gateways for ${opts.durationMs / 1000} s`);
    const [a, b] = await Promise.all(
      [gw1, gw2].map((gw) => runLoad<LoadResult>({ url: gw.url, path: '/v1/messages', headers, body: opts.body, connections: opts.connections, durationMs: opts.durationMs, warmupMs: 1000 })),
    );
    const accepted = warmups.reduce((n, w) => n + w.allOk, 0) + single.allOk + a.allOk + b.allOk;
    const started = Date.now();
    let stats = { unique: 0, duplicates: 0 };
    while (Date.now() - started < 120_000) {
      stats = (await (await fetch(`${sink.url}/stats`)).json()) as typeof stats;
      if (stats.unique >= accepted) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const result = {
      brokers: 3,
      gateways: 2,
      runners: 2,
      acceptedPerSecondOneGateway: single.throughput,
      acceptedPerSecond: a.throughput + b.throughput,
      accepted,
      delivered: stats.unique,
      duplicates: stats.duplicates,
      lost: Math.max(0, accepted - stats.unique),
      drainMs: Date.now() - started,
      non2xx: Object.entries({ ...single.statuses, ...a.statuses, ...b.statuses }).filter(([s]) => !s.startsWith('2')),
      errors: single.errors + a.errors + b.errors,
      peakRssMb: Object.fromEntries(processes.map((p) => [p.name, p.peakRssMb()])),
    };
    log(`accepted ${result.acceptedPerSecondOneGateway}/s with one gateway, ${result.acceptedPerSecond}/s with two; delivered ${result.delivered}/${accepted}, duplicates ${result.duplicates}, lost ${result.lost}`);
    const outDir = join(PROJECT_ROOT, 'test', 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'scale-out.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    for (const p of processes.reverse()) await p.stop();
    await kafka.stop();
    await postgres?.stop();
    await runDatabase?.drop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}
