// `npm start` keeps the stack up when one service crashes: the crashed process is started again
// after a backoff (1 s, doubling up to 30 s; back to 1 s once a run has lasted a minute), and
// the operator is told each time. Only a stop of the whole stack ends the services: a service
// that exits with code 0 (an orderly stop: SIGTERM to that process alone, say) is started again
// too, as an orchestrator would, but said as what it was, not as a crash.
import type { ChildProcess } from 'node:child_process';

export interface SupervisedChild {
  name: string;
  child: ChildProcess;
}

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

export function superviseRestarts(
  entry: SupervisedChild,
  start: () => ChildProcess,
  opts: { stopping: () => boolean; say: (line: string) => void; firstDelayMs?: number },
): void {
  let delay = opts.firstDelayMs ?? FIRST_DELAY_MS;
  let restarts = 0;
  const watch = (child: ChildProcess, startedAt: number) => {
    child.once('exit', (code, signal) => {
      if (opts.stopping()) return;
      if (Date.now() - startedAt >= STABLE_AFTER_MS) delay = opts.firstDelayMs ?? FIRST_DELAY_MS;
      restarts++;
      opts.say(`[${entry.name}] ${exitDescription(code, signal)}; restarting in ${Math.round(delay / 100) / 10} s (restart ${restarts})`);
      const wait = delay;
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      setTimeout(() => {
        if (opts.stopping()) return;
        entry.child = start();
        watch(entry.child, Date.now());
      }, wait);
    });
  };
  watch(entry.child, Date.now());
}

/** What an exit was, in the operator's words. */
export function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `exited unexpectedly (${signal})`;
  // A service stopped with SIGTERM or SIGINT drains and exits 0 (service-main.ts).
  if (code === 0) return 'stopped (exited with code 0: an orderly stop, as after a SIGTERM to it; the stack keeps every service running)';
  return `exited unexpectedly (code ${code})`;
}
