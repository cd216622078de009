// Readiness check "Kafka reachable": a metadata round trip, cached briefly so probes do not
// hammer the cluster.
import type { Admin } from 'kafkajs';

export function kafkaReadiness(admin: Admin, cacheMs = 2000): () => Promise<{ ok: boolean; detail?: string }> {
  let last: { at: number; result: { ok: boolean; detail?: string } } | null = null;
  return async () => {
    if (last && Date.now() - last.at < cacheMs) return last.result;
    let result;
    try {
      const cluster = await Promise.race([
        admin.describeCluster(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 2000)),
      ]);
      result = { ok: true, detail: `${cluster.brokers.length} broker(s)` };
    } catch (err) {
      result = { ok: false, detail: `Kafka unreachable: ${(err as Error).message}` };
    }
    last = { at: Date.now(), result };
    return result;
  };
}
