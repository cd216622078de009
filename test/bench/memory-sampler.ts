// What a service's resident memory is made of, sampled from its own /metrics (prom-client's
// default Node metrics) once a second: the peak of each part explains a peak RSS (V8 heap by
// space, memory outside the heap such as Buffers) instead of leaving it a single number.
import type { ServiceProcess } from './processes.js';

const PARTS: Record<string, RegExp> = {
  rss: /^process_resident_memory_bytes (\S+)$/m,
  heapTotal: /^nodejs_heap_size_total_bytes (\S+)$/m,
  heapUsed: /^nodejs_heap_size_used_bytes (\S+)$/m,
  external: /^nodejs_external_memory_bytes (\S+)$/m,
  newSpace: /^nodejs_heap_space_size_total_bytes\{space="new"\} (\S+)$/m,
  oldSpace: /^nodejs_heap_space_size_total_bytes\{space="old"\} (\S+)$/m,
  codeSpace: /^nodejs_heap_space_size_total_bytes\{space="code"\} (\S+)$/m,
  largeObjectSpace: /^nodejs_heap_space_size_total_bytes\{space="large_object"\} (\S+)$/m,
};

export type MemoryPeaks = Record<string, Record<string, number>>;

export function sampleMemory(processes: ServiceProcess[], everyMs = 1000): { stop(): MemoryPeaks } {
  const peaks: MemoryPeaks = {};
  const sample = async (p: ServiceProcess) => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    const mine = (peaks[p.name] ??= {});
    for (const [part, re] of Object.entries(PARTS)) {
      const mb = Math.round(Number(re.exec(text)?.[1] ?? 0) / 2 ** 20);
      if (mb > (mine[part] ?? 0)) mine[part] = mb;
    }
  };
  const timer = setInterval(() => {
    for (const p of processes) void sample(p).catch(() => undefined);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peaks;
    },
  };
}
