// Exponential backoff with "equal jitter": half the delay fixed, half random, so retries of
// many messages after an outage do not hit the receiver in lockstep.

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** `step` 1 is the first retry's delay, each step doubles it up to maxDelayMs. */
export function retryDelayMs(policy: RetryPolicy, step: number, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (step - 1));
  const jittered = exponential / 2 + (exponential / 2) * random();
  // A receiver's Retry-After is a floor, not a suggestion.
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, policy.maxDelayMs)));
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
