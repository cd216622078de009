import { formatDuration } from '../platform/duration-text.js';

export { formatDuration };

// Exponential backoff with "equal jitter": half the delay fixed, half random, so retries of
// many messages after an outage do not hit the receiver in lockstep.

export interface RetryPolicy extends RetryBudget {
  baseDelayMs: number;
  maxDelayMs: number;
}

export type Backoff = Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;

/** `step` 1 is the first retry's delay, each step doubles it up to maxDelayMs. */
export function retryDelayMs(policy: Backoff, step: number, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (step - 1));
  const jittered = exponential / 2 + (exponential / 2) * random();
  // A receiver's Retry-After is a floor, not a suggestion. A connector's retryAfterMs that is no
  // number (NaN, a string) or not above zero is no floor: NaN here made the next attempt's time
  // an invalid date and the record was never finished.
  const floor = typeof retryAfterMs === 'number' && retryAfterMs > 0 ? Math.min(retryAfterMs, policy.maxDelayMs) : 0;
  return Math.round(Math.max(jittered, floor));
}

/**
 * Which backoff step a message's next retry takes. The backoff protects a destination that is
 * down: while every attempt fails (`failureStreak`, consecutive failed attempts of the connector
 * across all messages, counts up) it grows with the message's own failures. While the destination
 * keeps delivering other messages in between (random errors, lost answers), a failed message is
 * not a sign of an outage and its backoff grows half as fast, so a partly failing destination
 * is not answered with minutes of idle waiting.
 */
export function backoffStep(ownFailures: number, failureStreak: number): number {
  const own = Math.max(1, ownFailures);
  return Math.max(Math.ceil(own / 2), Math.min(own, Math.max(1, failureStreak)));
}

/**
 * A message's retry budget: retried until `maxAgeMs` after its acceptance (the envelope's signed
 * time), and, when `maxAttempts` is finite, for that many attempts at most. Whichever is spent
 * first dead-letters it. The time budget is what lets a destination's outage or maintenance
 * window pass without dead letters; the attempt limit remains for connectors that want one.
 */
export interface RetryBudget {
  maxAttempts: number;
  maxAgeMs: number;
}

/** Whether a message that failed attempt `attempt` may be tried again, and how long is left. */
export function budgetLeft(budget: RetryBudget, attempt: number, acceptedAt: number, now: number): { spent: boolean; remainingMs: number } {
  const remainingMs = acceptedAt + budget.maxAgeMs - now;
  return { spent: attempt >= budget.maxAttempts || remainingMs <= 0, remainingMs };
}

/** The dead letter's reason when the budget is spent: "gave up after 12 attempts over 2 h 3 min: <last error>". */
export function gaveUpReason(attempts: number, elapsedMs: number, lastError: string): string {
  return `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} over ${formatDuration(elapsedMs)}: ${lastError}`;
}


/** While a request's caller may still be waiting, its next attempt goes within this (jittered). */
export const REQUEST_RETRY_MAX_MS = 250;

/**
 * Consecutive failed attempts of a connector, across all its messages, from which its requests
 * take the backoff too: the destination is down, not failing now and then, and a quick retry of
 * every waiting request would only add load to it.
 */
export const REQUEST_QUICK_RETRY_MAX_STREAK = 20;

/**
 * The delay before a request's next attempt. Somebody waits on the reply (POST /v1/requests,
 * up to `waitWindowMs` after acceptance), so while they may still be waiting a retry goes after
 * a short pause, not after the exponential backoff: with a third of calls failing that backoff
 * put a request's fourth attempt past 3 s and its fifth past a 10 s wait. A receiver's
 * Retry-After stays a floor. Past the window, or while the destination fails every attempt,
 * a request takes the backoff like any message (`backoffDelayMs`).
 */
export function requestRetryDelayMs(
  backoffDelayMs: number,
  since: { acceptedAt: number; now: number; waitWindowMs: number; failureStreak: number; retryAfterMs?: number },
  random = Math.random,
): number {
  const waiting = since.now - since.acceptedAt < since.waitWindowMs;
  if (!waiting || since.failureStreak >= REQUEST_QUICK_RETRY_MAX_STREAK) return backoffDelayMs;
  const quick = REQUEST_RETRY_MAX_MS / 2 + (REQUEST_RETRY_MAX_MS / 2) * random();
  const floor = typeof since.retryAfterMs === 'number' && since.retryAfterMs > 0 ? since.retryAfterMs : 0;
  return Math.round(Math.min(backoffDelayMs, Math.max(quick, floor)));
}
