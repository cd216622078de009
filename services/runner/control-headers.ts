// The runner's control headers on retry records (`lgsp-attempt`, `lgsp-not-before`) are not
// covered by the record's signature (the signature is the gateway's, over the envelope), so
// anyone who can produce to a retry topic can set them. They are therefore only trusted within
// bounds: an attempt number between 1 and the policy's maximum, and a due time no further
// ahead than the longest retry delay — a copied record with a far `not-before` can delay its
// partition by one retry delay at most, never stall it. The retry budget is measured from the
// envelope's signed acceptance time; `lgsp-retry-since` (a replay's fresh budget) is trusted
// only between that time and now, and `lgsp-destination` only decides which parked retries are
// released early when a destination answers again (connector-worker.ts).

/** The attempt a record claims, clamped to 1…maxAttempts (garbage counts as a first attempt). */
export function boundedAttempt(raw: string | undefined, maxAttempts: number): number {
  const n = Math.floor(Number(raw ?? '1'));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, maxAttempts);
}

/** When a retry record becomes due, never later than now + maxDelayMs (garbage: now). */
export function boundedDueTime(raw: string | undefined, now: number, maxDelayMs: number): number {
  const due = Number(raw ?? 0);
  if (!Number.isFinite(due)) return now;
  return Math.min(due, now + maxDelayMs);
}
