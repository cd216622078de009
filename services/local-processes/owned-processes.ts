// Servers the project starts for itself (the local Kafka broker, the local PostgreSQL) must not
// outlive the Node process that started them, and only our own pids are ever signalled.
// Two layers: an 'exit' handler for normal exits, and a detached watchdog shell for deaths by a
// signal ('exit' does not run then, e.g. SIGKILL from a test runner's timeout).
import { spawn } from 'node:child_process';

export interface OwnedProcessPolicy {
  /** Name of the watchdog in `ps` output. */
  name: string;
  /** What the exit handler sends (must work synchronously, from an 'exit' handler). */
  exitSignal: NodeJS.Signals;
  /** What the watchdog sends once our pid is gone: a kill(1) signal name without SIG. */
  watchdogSignal: string;
}

const livePids = new Map<number, NodeJS.Signals>();
let exitHandlerInstalled = false;

/** Signals `pid` when this process exits, and starts the watchdog for deaths by a signal. */
export function ownProcess(pid: number, policy: OwnedProcessPolicy): void {
  livePids.set(pid, policy.exitSignal);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const [p, signal] of livePids) {
        try {
          process.kill(p, signal);
        } catch {
          /* already gone */
        }
      }
    });
  }
  startWatchdog(pid, policy);
}

/** The process ended (or was stopped) normally: nothing left to signal. */
export function releaseProcess(pid: number): void {
  livePids.delete(pid);
}

/** A detached shell loop that outlives us and signals `pid` once our pid is gone; it ends by itself when `pid` exits. */
function startWatchdog(pid: number, policy: OwnedProcessPolicy): void {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    `kill -0 "$1" 2>/dev/null || kill -${policy.watchdogSignal} "$2" 2>/dev/null`;
  const dog = spawn('sh', ['-c', script, policy.name, String(process.pid), String(pid)], { detached: true, stdio: 'ignore' });
  dog.on('error', () => {}); // best effort; the exit handler still covers normal exits
  dog.unref();
}
