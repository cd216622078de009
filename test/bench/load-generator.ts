// HTTP load generator, run as its own process so it never shares an event loop with the
// server under test. Two modes:
// - closed loop: `connections` workers each send the next request as soon as the previous one
//   answers (maximum throughput);
// - open loop: requests are *scheduled* at a constant rate and latency is measured from the
//   scheduled time, not the send time, so a stalled server is charged for the queue it causes
//   (no coordinated omission).
// Input: JSON on argv[2]. Output: one JSON line on stdout.
import { Pool } from 'undici';
import * as hdr from 'hdr-histogram-js';

export interface LoadSpec {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Body template; `{{sentAt}}` and `{{seq}}` are replaced per request. */
  body: string;
  connections: number;
  durationMs: number;
  /** Requests per second for open loop; absent = closed loop. */
  rate?: number;
  warmupMs?: number;
}

export interface LoadResult {
  mode: 'closed' | 'open';
  sent: number;
  completed: number;
  statuses: Record<string, number>;
  errors: number;
  durationMs: number;
  throughput: number;
  ok2xx: number;
  /** 2xx answers including the warm-up, to reconcile with what the destination received. */
  allOk: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number; mean: number };
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const statuses: Record<string, number> = {};
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let seq = 0;
  let measuring = false;
  let allOk = 0;
  const hasTemplate = spec.body.includes('{{');

  const fire = async (scheduledAt: number): Promise<void> => {
    const n = seq++;
    const body = hasTemplate ? spec.body.replace('{{sentAt}}', String(Date.now())).replace('{{seq}}', String(n)) : spec.body;
    const counted = measuring;
    if (counted) sent++;
    try {
      const res = await pool.request({ method: 'POST', path: spec.path, headers: spec.headers, body });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) allOk++;
      if (counted) {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        completed++;
        histogram.recordValue(Math.max(1, Math.round((performance.now() - scheduledAt) * 1000)));
      }
    } catch {
      if (counted) errors++;
    }
  };

  const warmup = spec.warmupMs ?? 2000;
  const started = performance.now();
  setTimeout(() => {
    measuring = true;
  }, warmup);
  const end = started + warmup + spec.durationMs;
  let measureStart = started + warmup;

  if (spec.rate === undefined) {
    const worker = async () => {
      while (performance.now() < end) await fire(performance.now());
    };
    await Promise.all(Array.from({ length: spec.connections }, worker));
  } else {
    // Schedule by the clock in small ticks; each tick fires what is due since the last one.
    const interval = 1000 / spec.rate;
    let next = started;
    const inflight = new Set<Promise<void>>();
    while (performance.now() < end) {
      const now = performance.now();
      while (next <= now && next < end) {
        const p = fire(next);
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
        next += interval;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inflight);
  }
  measureStart = Math.max(measureStart, started);
  const durationMs = performance.now() - measureStart;
  await pool.close();
  const ok2xx = Object.entries(statuses).filter(([s]) => s.startsWith('2')).reduce((a, [, c]) => a + c, 0);
  const us = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  return {
    mode: spec.rate === undefined ? 'closed' : 'open',
    sent,
    completed,
    statuses,
    errors,
    durationMs: Math.round(durationMs),
    throughput: Math.round((ok2xx / Math.min(durationMs, spec.durationMs)) * 1000),
    ok2xx,
    allOk,
    latencyMs: { p50: us(50), p99: us(99), p999: us(99.9), max: histogram.maxValue / 1000, mean: Math.round(histogram.mean) / 1000 },
  };
}

if (process.argv[2]) {
  const result = await run(JSON.parse(process.argv[2]) as LoadSpec);
  process.stdout.write(JSON.stringify(result) + '\n');
}
