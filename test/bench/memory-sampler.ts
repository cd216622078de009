// What a service's resident memory is made of, sampled from its own /metrics (prom-client's
// default Node metrics) once a second: the peak of each part explains a peak RSS (V8 heap by
// space, memory outside the heap such as Buffers) instead of leaving it a single number.
import type { ServiceProcess } from './processes.js';

// Metric name, and the heap space for the per-space figures (lines carry other labels too).
const PARTS: Record<string, [string, string?]> = {
  rss: ['process_resident_memory_bytes'],
  heapTotal: ['nodejs_heap_size_total_bytes'],
  heapUsed: ['nodejs_heap_size_used_bytes'],
  external: ['nodejs_external_memory_bytes'],
  newSpace: ['nodejs_heap_space_size_total_bytes', 'new'],
  oldSpace: ['nodejs_heap_space_size_total_bytes', 'old'],
  codeSpace: ['nodejs_heap_space_size_total_bytes', 'code'],
  largeObjectSpace: ['nodejs_heap_space_size_total_bytes', 'large_object'],
};

function figure(text: string, name: string, space?: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (space && !line.includes(`space="${space}"`)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export type MemoryPeaks = Record<string, Record<string, number>>;

export function sampleMemory(processes: ServiceProcess[], everyMs = 1000): { stop(): MemoryPeaks } {
  const peaks: MemoryPeaks = {};
  const sample = async (p: ServiceProcess) => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    const mine = (peaks[p.name] ??= {});
    for (const [part, [name, space]] of Object.entries(PARTS)) {
      const mb = Math.round(figure(text, name, space) / 2 ** 20);
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
