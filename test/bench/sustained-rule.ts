/**
 * Whether a rate was sustained in the bench's sustained search: every accepted message
 * delivered, the offered rate kept, the relay's backlog not growing and the whole backlog gone
 * soon after the load. A pure function so that the rule can be tested apart from a bench run.
 */
export interface SustainedPhase {
  /** Offered rate, messages per second. */
  rate: number;
  /** Accepted per second as the load tool measured it. */
  acceptedPerSecond: number;
  /** Answers the load tool got: 2xx, all completed requests, transport errors. */
  ok2xx: number;
  completed: number;
  errors: number;
  /** Messages answered 202 and distinct messages the sink received. */
  accepted: number;
  delivered: number;
  /** How long after the load the last accepted message reached the sink. */
  drainMs: number;
  /** The relay's consumer lag, sampled during the phase, read from committed offsets. */
  relayLagSamples: readonly number[];
  /** How often the relay commits its offsets (LGSP_OFFSET_COMMIT_INTERVAL_MS). */
  commitIntervalMs: number;
}

export interface SustainedVerdict {
  sustained: boolean;
  /** Why not, in words for the log; empty when sustained. */
  reasons: string[];
}

export function sustainedVerdict(phase: SustainedPhase): SustainedVerdict {
  const reasons: string[] = [];
  const samples = phase.relayLagSamples;
  const third = Math.max(1, Math.floor(samples.length / 3));
  const early = Math.max(0, ...samples.slice(0, third));
  const late = Math.max(0, ...samples.slice(-third));
  // Flat: the backlog at the end is no bigger than at the start plus half a second of traffic.
  // The lag is read from committed offsets and the relay commits once per interval, so a relay
  // that keeps up shows anywhere between none and one interval's records uncommitted: a sample
  // taken just before a commit reads that much higher than one taken just after. That step is
  // the commit cadence, not a backlog (at 1,052/s in the full run of 2026-12-04 21:03 it refused
  // a rate whose messages were all delivered and drained 1 ms after the load); a backlog that
  // really grows also shows in the drain time, checked below.
  const allowedGrowth = phase.rate * (0.5 + phase.commitIntervalMs / 1000);
  if (late > early + allowedGrowth) reasons.push(`relay lag grew from ${early} to ${late} (more than ${Math.round(allowedGrowth)})`);
  if (phase.delivered < phase.accepted) reasons.push(`${phase.accepted - phase.delivered} of ${phase.accepted} accepted not delivered`);
  if (phase.errors > 0 || phase.ok2xx !== phase.completed) reasons.push(`${phase.completed - phase.ok2xx} answers not 2xx, ${phase.errors} transport errors`);
  if (phase.acceptedPerSecond < phase.rate * 0.97) reasons.push(`accepted ${phase.acceptedPerSecond}/s of ${phase.rate}/s offered`);
  if (phase.drainMs >= 5000) reasons.push(`drained ${phase.drainMs} ms after the load`);
  return { sustained: reasons.length === 0, reasons };
}

/** Shares of the max accepted rate the sustained search offers, highest first. */
export const SUSTAINED_SEARCH_SHARES: readonly number[] = [0.75, 0.6, 0.45, 0.3, 0.2];

/**
 * The next rate the sustained search offers, or null once it is done. It steps down through
 * SUSTAINED_SEARCH_SHARES of `maxAccepted` until a rate is sustained; that step is a quarter of
 * the rate wide, so the search then offers once the midpoint between the sustained rate and the
 * refused one above it (the figure is the highest rate actually sustained, never an estimate).
 * When the first step holds, the bound above it is the max accepted rate itself: without that
 * refinement a bus that keeps up at 75% of its max read as sustaining 75% however close to
 * its max it could go (the full run of 2026-12-07 10:17: 1,584/s, first step, drained in 4 ms).
 */
export function nextSustainedRate(maxAccepted: number, tried: ReadonlyArray<{ rate: number; sustained: boolean }>): number | null {
  const steps = SUSTAINED_SEARCH_SHARES.map((share) => Math.max(1, Math.round(maxAccepted * share)));
  const found = tried.findIndex((t) => t.sustained);
  if (found < 0) return tried.length < steps.length ? steps[tried.length] : null;
  // One refinement, between the first sustained step and the refused step (or max) above it.
  if (found !== tried.length - 1 || found >= steps.length) return null;
  const above = found === 0 ? maxAccepted : tried[found - 1].rate;
  const midpoint = Math.round((above + tried[found].rate) / 2);
  return midpoint > tried[found].rate && midpoint < above ? midpoint : null;
}

/** The sustained rate a search found: the highest rate it offered that was sustained. */
export function sustainedRateFound(tried: ReadonlyArray<{ rate: number; sustained: boolean }>): number | null {
  const rates = tried.filter((t) => t.sustained).map((t) => t.rate);
  return rates.length > 0 ? Math.max(...rates) : null;
}
