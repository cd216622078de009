// Child processes for the benchmark: each service under test, the sink, the ceiling server and
// the load generator run as separate processes, as in production, so per-process RSS and CPU
// are real. Peak RSS comes from the kernel's high-water mark (VmHWM).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../services/platform/project-root.js';
import { SERVICE_ENV, SERVICE_NODE_FLAGS } from '../../services/platform/service-node-flags.js';
import { ownProcess, releaseProcess } from '../../services/local-processes/owned-processes.js';

export interface ServiceProcess {
  name: string;
  url: string;
  child: ChildProcess;
  peakRssMb(): number;
  stop(): Promise<void>;
}

export function peakRssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 102.4) / 10;
  } catch {
    return 0;
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (which may contain spaces): index 0 is
 * the state, 1 the parent pid, 11/12 user/system ticks, 13/14 those of reaped children.
 * Undefined when the process is gone.
 */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const ticksToMs = (ticks: number) => (ticks * 1000) / 100; // USER_HZ is 100 on Linux

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function cpuTimeMs(pid: number | undefined): number {
  const fields = pid ? statFields(pid) : undefined;
  return fields ? ticksToMs(Number(fields[11]) + Number(fields[12])) : 0;
}

/**
 * CPU time (ms) so far of each thread of a process whose name matches `name`
 * (the comm file of each /proc/<pid>/task entry), keyed by thread id: e.g. the JVM's JIT compiler threads
 * ("C1 CompilerThre", "C2 CompilerThre").
 */
export function threadCpuMs(pid: number | undefined, name: RegExp): Map<string, number> {
  const byThread = new Map<string, number>();
  let tasks: string[] = [];
  try {
    if (pid) tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byThread;
  }
  for (const tid of tasks) {
    try {
      if (!name.test(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim())) continue;
    } catch {
      continue; // the thread ended meanwhile
    }
    const fields = statFields(`${pid}/task/${tid}`);
    if (fields) byThread.set(`${pid}/${tid}`, ticksToMs(Number(fields[11]) + Number(fields[12])));
  }
  return byThread;
}

/**
 * CPU time the threads of two threadCpuMs snapshots used between them. A lower bound: the JVM
 * ends idle compiler threads, and a thread that ended in between takes its share with it.
 */
export function threadCpuDeltaMs(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [tid, ms] of after) total += ms - (before.get(tid) ?? 0);
  return total;
}

/**
 * CPU time (ms) of a process and its children: the live ones (PostgreSQL's backends, one per
 * connection, are children of the postmaster) plus those already exited and reaped (their time
 * moves into the parent's cutime/cstime, so a delta over a phase stays consistent).
 */
export function processTreeCpuMs(rootPid: number | undefined): number {
  const root = rootPid ? statFields(rootPid) : undefined;
  if (!root) return 0;
  let total = ticksToMs(Number(root[11]) + Number(root[12]) + Number(root[13]) + Number(root[14]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && Number(fields[1]) === rootPid) total += ticksToMs(Number(fields[11]) + Number(fields[12]));
  }
  return total;
}

export function distScript(relative: string): string {
  return join(PROJECT_ROOT, 'dist', relative);
}

export async function startProcess(name: string, script: string, env: Record<string, string>, port: number): Promise<ServiceProcess> {
  // --profile: V8 CPU profiles of every service process, for flame graphs (chrome://inspect or
  // speedscope.app open .cpuprofile files).
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  // Bus services run with the flags they have in production; the sink and ceiling server are not services.
  const isService = script.startsWith(join(PROJECT_ROOT, 'dist', 'services'));
  const serviceFlags = isService ? [...SERVICE_NODE_FLAGS, ...(process.env[`BENCH_EXTRA_FLAGS_${name}`]?.split(' ').filter(Boolean) ?? [])] : [];
  const child = spawn(process.execPath, [...serviceFlags, ...nodeArgs, script], { env: { ...process.env, ...(isService ? SERVICE_ENV : {}), ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  ownChild(child);
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error(`${name} did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    url,
    child,
    peakRssMb: () => peakRssMb(child.pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

// A bench stopped midway (Ctrl-C, kill) takes its services and load generator with it, as the
// broker and the database already go (services/local-processes/owned-processes.ts).
const BENCH_CHILD = { name: 'lgsp-bench-watchdog', exitSignal: 'SIGTERM', watchdogSignal: 'TERM' } as const;

function ownChild(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const pid = child.pid;
  ownProcess(pid, BENCH_CHILD);
  child.once('exit', () => releaseProcess(pid));
}

/** Runs the load generator in its own process and returns its JSON result. */
export function runLoad<T>(spec: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [distScript('test/bench/load-generator.js'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    ownChild(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as T) : reject(new Error(`load generator exited ${code}`))));
  });
}
