// A housekeeping pass run every interval by each replica of a service (no leader to elect for
// an idempotent DELETE): the first pass at a random moment within one interval of the start, so
// replicas started together do not all run at once; a pass that fails is tried again at the
// next interval; stop() waits for a pass under way.
import type { Logger } from './logger.js';

export interface PeriodicTask {
  stop(): Promise<void>;
}

/** Runs `pass` every `intervalMs`; `pass` reads `stopped()` to end a long pass early. */
export function startPeriodicTask(intervalMs: number, pass: (stopped: () => boolean) => Promise<void>): PeriodicTask {
  let stopped = false;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (delay: number) => {
    timer = setTimeout(() => {
      running = pass(() => stopped).finally(() => {
        running = null;
        if (!stopped) schedule(intervalMs);
      });
    }, delay);
    timer.unref();
  };
  schedule(Math.floor(Math.random() * intervalMs));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A retention sweep on a periodic task: every pass deletes what is older than `retentionDays`
 * (`prune`, given the cutoff) and logs how much at info; a failed pass is logged at warn and
 * tried again at the next interval (rows kept a little longer are harmless). `retentionDays` 0
 * keeps everything and starts nothing.
 */
export function startRetentionSweep(opts: {
  retentionDays: number;
  intervalMs: number;
  log: Logger;
  prune: (cutoff: Date, stopped: () => boolean) => Promise<number>;
  /** The log lines: what was deleted, and what failed. */
  deletedLine: string;
  failedLine: string;
}): PeriodicTask {
  if (opts.retentionDays <= 0) return { stop: async () => undefined };
  return startPeriodicTask(opts.intervalMs, async (stopped) => {
    try {
      const deleted = await opts.prune(new Date(Date.now() - opts.retentionDays * DAY_MS), stopped);
      if (deleted > 0) opts.log.info({ deleted, retentionDays: opts.retentionDays }, opts.deletedLine);
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, `${opts.failedLine}; trying again at the next interval`);
    }
  });
}
