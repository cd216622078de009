// `npm run bench:token-flood`: can a wrong-secret flood on the token endpoint stall a gateway?
// 64 connections post client_secret_basic requests with a wrong secret in a closed loop (a
// separate load-generator process) while this process probes GET /healthz every 20 ms and
// records how long each probe takes. The gateway runs as its own process, as in production.
// Loopback only, bounded in time (--seconds=N, default 15). Runs twice: with the default
// per-address token limit, and with that limit lifted so every request reaches scrypt.
// Needs Kafka: run under with-kafka, or set KAFKA_BROKERS.
import { kafkaSettingsFromEnv } from '../../services/platform/config.js';
import { provisionBusAcls } from '../../services/platform/kafka-acls.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { ensureKeys } from '../../services/platform/key-files.js';
import type { RegistryData } from '../../services/platform/registry.js';
import { prepareDevRegistry } from '../../services/stack/dev-credentials.js';
import { freePort } from '../../services/local-processes/free-port.js';
import { distScript, runLoad, startProcess } from './processes.js';
import type { LoadResult } from './load-generator.js';

export interface FloodResult {
  label: string;
  healthz: { probes: number; p50: number; p99: number; max: number };
  flood: { requestsPerSecond: number; statuses: Record<string, number> };
}

const perSecond = (r: LoadResult) => Math.round((r.completed / Math.max(1, r.durationMs)) * 1000);
const log = (line: string) => process.stderr.write(`[token-flood] ${line}\n`);

/** Probes GET /healthz back to back (20 ms apart) until `until` resolves. */
async function probeHealthz(url: string, until: Promise<unknown>): Promise<FloodResult['healthz']> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const started = process.hrtime.bigint();
    try {
      await (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) })).arrayBuffer();
    } catch {
      /* a timed-out probe still counts, with its time */
    }
    histogram.recordValue(Math.max(1, Math.round(Number(process.hrtime.bigint() - started) / 1000)));
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  return { probes: histogram.totalCount, p50: ms(histogram.getValueAtPercentile(50)), p99: ms(histogram.getValueAtPercentile(99)), max: ms(histogram.maxValue) };
}

export async function runTokenFlood(opts: { brokers: string; seconds: number; connections?: number; env?: Record<string, string>; label: string }): Promise<FloodResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-token-flood-'));
  try {
    const keysDir = join(dataDir, 'keys');
    const jwksFile = join(keysDir, 'public', 'jwks.json');
    await ensureKeys(keysDir, jwksFile);
    const port = await freePort();
    const gatewayUrl = `http://127.0.0.1:${port}`;
    const seeds = JSON.parse(readFileSync(join(PROJECT_ROOT, 'seeds', 'registry.json'), 'utf8')) as RegistryData;
    const prepared = await prepareDevRegistry({ seeds, dataDir, tokenUrl: `${gatewayUrl}/v1/token`, simulatorUrl: 'http://127.0.0.1:9' });
    // A client that really has a secret, so the wrong secret is checked with scrypt.
    const legacy = [...prepared.clients.values()].find((c) => c.clientSecret);
    if (!legacy) throw new Error('the demo registry has no client_secret_basic client');
    const prefix = `flood-${Date.now().toString(36)}.`;
    await provisionBusAcls({ ...kafkaSettingsFromEnv(), kafkaBrokers: opts.brokers.split(',') }, prefix);
    const env = {
      KAFKA_BROKERS: opts.brokers,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LGSP_DATA_DIR: dataDir,
      LGSP_REGISTRY_FILE: prepared.registryFile,
      LGSP_KEYS_DIR: keysDir,
      LGSP_JWKS_FILE: jwksFile,
      LGSP_ISSUER: gatewayUrl,
      LGSP_TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      ...opts.env,
    };
    // A gateway can lose a race with the creation of its fresh topics and exit at start; once more.
    const gateway = await startProcess('gateway', distScript('services/gateway/main.js'), env, port)
      .catch(() => startProcess('gateway', distScript('services/gateway/main.js'), env, port));
    try {
      const idle = await probeHealthz(gatewayUrl, new Promise((r) => setTimeout(r, 2000)));
      log(`${opts.label}: idle /healthz p50 ${idle.p50} ms, p99 ${idle.p99} ms`);
      const wrong = Buffer.from(`${encodeURIComponent(legacy.clientId)}:${'not-the-secret'}`).toString('base64');
      const flood = runLoad<LoadResult>({
        url: gatewayUrl,
        path: '/v1/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${wrong}` },
        body: 'grant_type=client_credentials',
        connections: opts.connections ?? 64,
        durationMs: opts.seconds * 1000,
        warmupMs: 500,
      });
      const healthz = await probeHealthz(gatewayUrl, flood);
      const result = await flood;
      log(`${opts.label}: under flood /healthz p50 ${healthz.p50} ms, p99 ${healthz.p99} ms, max ${healthz.max} ms (${healthz.probes} probes); token endpoint ${perSecond(result)} req/s ${JSON.stringify(result.statuses)}`);
      return { label: opts.label, healthz, flood: { requestsPerSecond: perSecond(result), statuses: result.statuses } };
    } finally {
      await gateway.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    log('KAFKA_BROKERS is not set: run `npm run bench:token-flood` (it starts a broker)');
    process.exit(2);
  }
  const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 15);
  const results = [
    await runTokenFlood({ brokers, seconds, label: 'default limits' }),
    await runTokenFlood({ brokers, seconds, label: 'per-address token limit lifted (every request runs scrypt)', env: { LGSP_TOKEN_RATE_LIMIT_PER_MINUTE: '1000000000', LGSP_RATE_LIMIT_PER_MINUTE: '1000000000' } }),
  ];
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
}
