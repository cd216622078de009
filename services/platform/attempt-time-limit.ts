// A time limit on each call of a connector's handle(). A handler that never returns (a call
// without a timeout, a promise nobody settles) and ignores its abort signal held its record
// for good before: the record's key ran nothing else, its partition's offsets stopped, and
// nothing said why. Past the limit the attempt is abandoned: its signal is aborted (a handler
// that listens stops), and the attempt fails as retryable with a reason naming the limit, so
// the message is retried on its backoff and dead-lettered when its budget is spent. The call
// itself cannot be stopped from outside and may still finish later: what it does then with its
// own means is the same as a delivery whose answer was lost (at-least-once; receivers dedupe by
// message id), but the runtime's calls it makes (ctx.deliver, emitStatus, ...) check the signal
// and are refused, so the runtime never delivers or reports for an abandoned attempt.
//
// One sweep a second checks the attempts running: no timer per attempt on the delivery path.
// Shared by the runner and the SDK's test harness, which report the same outcome for it.
import { RetryableError } from './delivery.js';
import { formatDuration } from './duration-text.js';

interface Running {
  startedAt: number;
  controller?: AbortController;
  /** Why the attempt was abandoned: a signal first asked for afterwards starts aborted. */
  abandonedBecause?: Error;
  abandon(reason: Error): void;
}

export class AttemptTimeLimit {
  private readonly running = new Set<Running>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly limitMs: number,
    /** The runner's own stop: it aborts every attempt's signal too. */
    private readonly stopping: AbortSignal,
    private readonly onAbandoned: (reason: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs one attempt. `call` gets the attempt's signal as a function, so that the signal (and
   * its link to the runner's stop) is made only for handlers that read it.
   */
  run<R>(call: (signal: () => AbortSignal) => Promise<R>): Promise<R> {
    let abandon!: (reason: Error) => void;
    const abandoned = new Promise<never>((_, reject) => (abandon = reject));
    const entry: Running = { startedAt: this.now(), abandon };
    const signal = () => {
      if (!entry.controller) {
        entry.controller = new AbortController();
        if (entry.abandonedBecause) entry.controller.abort(entry.abandonedBecause);
      }
      return AbortSignal.any([this.stopping, entry.controller.signal]);
    };
    this.running.add(entry);
    // Not unref'd: while an attempt runs the sweep keeps the process alive, or a handler waiting on
    // nothing else (in the SDK's harness) would end the process instead of being abandoned.
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.limitMs / 4)));
    let settled: Promise<R>;
    try {
      settled = call(signal);
    } catch (err) {
      settled = Promise.reject(err);
    }
    return Promise.race([settled, abandoned]).finally(() => {
      this.running.delete(entry);
      if (this.running.size === 0 && this.sweeper) {
        clearInterval(this.sweeper);
        this.sweeper = null;
      }
    });
  }

  private sweep(): void {
    const now = this.now();
    for (const entry of this.running) {
      if (now - entry.startedAt < this.limitMs) continue;
      this.running.delete(entry);
      const reason = `handle() did not finish within ${formatDuration(this.limitMs)} (LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS): the attempt was abandoned and its signal aborted`;
      entry.abandonedBecause = new Error(reason);
      entry.controller?.abort(entry.abandonedBecause);
      this.onAbandoned(reason);
      entry.abandon(new RetryableError(reason));
    }
  }

  /** Stops the sweep (the runner is stopping: its abort signal ends the attempts). */
  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
