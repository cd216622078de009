// A time limit on each call of a connector's handle(). A handler that never returns (a call
// without a timeout, a promise nobody settles) and ignores its abort signal held its record
// for good before: the record's key ran nothing else, its partition's offsets stopped, and
// nothing said why. Past the limit the attempt is abandoned: its signal is aborted (a handler
// that listens stops), and the attempt fails as retryable with a reason naming the limit, so
// the message is retried on its backoff and dead-lettered when its budget is spent. The call
// itself cannot be stopped from outside and may still finish later: what it does then with its
// own means is the same as a delivery whose answer was lost (at-least-once; receivers dedupe by
// message id), but the runtime's calls it makes (ctx.deliver, emitStatus, ...) check the attempt
// and are refused, and a ctx.deliver in flight is cut off, so the runtime never delivers or
// reports for an abandoned attempt.
//
// One sweep a second checks the attempts running: no timer per attempt on the delivery path.
// Shared by the runner and the SDK's test harness, which report the same outcome for it.
import { RetryableError } from './delivery.js';
import { formatDuration } from './duration-text.js';
import type { DeliveryStop } from './signed-delivery.js';

/**
 * One attempt while it runs. Its state is read without making anything: the runtime's own calls
 * (ctx.deliver, emitStatus, ...) check it on every message, while an AbortSignal (one controller
 * plus AbortSignal.any per attempt) is made only for handlers that read ctx.signal.
 */
export class RunningAttempt implements DeliveryStop {
  private controller?: AbortController;
  private linked?: AbortSignal;
  /** Why the attempt was abandoned: a signal first asked for afterwards starts aborted. */
  private abandonedBecause?: Error;
  /** Deliveries in flight (deliverSigned's listeners): the sweep cuts them off. */
  private listeners?: Set<() => void>;

  constructor(
    readonly startedAt: number,
    private readonly stopping: AbortSignal,
    private readonly fail: (err: Error) => void,
  ) {}

  /** The attempt's signal, aborted when it is abandoned or the runner stops; made when first asked for, then the same one. */
  signal(): AbortSignal {
    if (!this.linked) {
      this.controller = new AbortController();
      if (this.abandonedBecause) this.controller.abort(this.abandonedBecause);
      this.linked = AbortSignal.any([this.stopping, this.controller.signal]);
    }
    return this.linked;
  }

  get aborted(): boolean {
    return this.abandonedBecause !== undefined || this.stopping.aborted;
  }

  /**
   * Refuses a runtime call of an abandoned attempt: it may still be running, and the runtime
   * would otherwise deliver its message beside the next attempt, or report after its outcome.
   */
  refuseIfAbandoned(call: string): void {
    if (!this.aborted) return;
    const reason = this.abandonedBecause ?? (this.stopping.reason as Error | undefined);
    throw new RetryableError(`ctx.${call}() refused: this attempt was abandoned (${reason?.message ?? 'aborted'})`);
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.listeners ??= new Set()).add(listener);
    this.stopping.addEventListener('abort', listener, { once: true });
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners?.delete(listener);
    this.stopping.removeEventListener('abort', listener);
  }

  /** Past the limit: aborts its signal and deliveries, and fails the attempt as retryable. */
  abandon(reason: string): void {
    this.abandonedBecause = new Error(reason);
    this.controller?.abort(this.abandonedBecause);
    if (this.listeners) for (const listener of this.listeners) listener();
    this.fail(new RetryableError(reason));
  }
}

export class AttemptTimeLimit {
  private readonly running = new Set<RunningAttempt>();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly limitMs: number,
    /** The runner's own stop: it aborts every attempt's signal too. */
    private readonly stopping: AbortSignal,
    private readonly onAbandoned: (reason: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs one attempt. `call` gets the attempt: its signal (and the signal's link to the runner's
   * stop) is made only for handlers that read it, its state is read by the runtime's calls.
   */
  run<R>(call: (attempt: RunningAttempt) => Promise<R>): Promise<R> {
    let fail!: (err: Error) => void;
    const abandoned = new Promise<never>((_, reject) => (fail = reject));
    const attempt = new RunningAttempt(this.now(), this.stopping, fail);
    this.running.add(attempt);
    // Not unref'd: while an attempt runs the sweep keeps the process alive, or a handler waiting on
    // nothing else (in the SDK's harness) would end the process instead of being abandoned.
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, Math.max(10, this.limitMs / 4)));
    let settled: Promise<R>;
    try {
      settled = call(attempt);
    } catch (err) {
      settled = Promise.reject(err);
    }
    return Promise.race([settled, abandoned]).finally(() => {
      this.running.delete(attempt);
      if (this.running.size === 0 && this.sweeper) {
        clearInterval(this.sweeper);
        this.sweeper = null;
      }
    });
  }

  private sweep(): void {
    const now = this.now();
    for (const attempt of this.running) {
      if (now - attempt.startedAt < this.limitMs) continue;
      this.running.delete(attempt);
      const reason = `handle() did not finish within ${formatDuration(this.limitMs)} (LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS): the attempt was abandoned and its signal aborted`;
      this.onAbandoned(reason);
      attempt.abandon(reason);
    }
  }

  /** Stops the sweep (the runner is stopping: its abort signal ends the attempts). */
  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
