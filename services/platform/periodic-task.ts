// A housekeeping pass run every interval by each replica of a service (no leader to elect for
// an idempotent DELETE): the first pass at a random moment within one interval of the start, so
// replicas started together do not all run at once; a pass that fails is tried again at the
// next interval; stop() waits for a pass under way.

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
