// `--profile`: the V8 CPU profiles of the services, summarised as self time by function and by
// file or package, so a run says where the time goes without opening a flame graph. Idle time is
// left out of the shares: they are shares of the time the process was busy.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function place(url: string): { file: string; unit: string } {
  if (!url) return { file: '(native)', unit: '(native)' };
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const file = url.slice(inModules + 'node_modules/'.length);
    const parts = file.split('/');
    return { file, unit: parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
  }
  const inDist = url.lastIndexOf('/dist/');
  const file = inDist >= 0 ? url.slice(inDist + '/dist/'.length) : url;
  return { file, unit: file };
}

export function summariseProfile(profile: CpuProfile, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byUnit = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    busy += us;
    const { file, unit } = place(frame.url);
    const fn = `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byUnit.set(unit, (byUnit.get(unit) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / Math.max(1, busy)).toFixed(1).padStart(5)}%  ${k}`);
  return [`busy ${(busy / 1000).toFixed(0)} ms`, ' by function (self time):', ...rows(byFunction), ' by file or package:', ...rows(byUnit)].join('\n');
}

/** Summarises every service profile in `dir` into `dir/summary.txt` and returns the text. */
export function summariseProfiles(dir: string, names: string[]): string {
  const text = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && names.includes(f.replace(/\.cpuprofile$/, '')))
    .map((f) => `== ${f}\n${summariseProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile)}`)
    .join('\n\n');
  writeFileSync(join(dir, 'summary.txt'), text + '\n');
  return text;
}
