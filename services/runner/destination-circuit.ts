// A circuit per destination (a receiving system), so that while a destination is known to be
// down the runner does not send it every parked retry as each comes due. After `threshold`
// consecutive connection failures (refused, reset, unreachable, timed out) the circuit opens:
// retries for that destination are held instead of attempted, and one of them goes as a probe
// at the next probe time (half-open). A probe that connects closes the circuit and the held
// retries go at once — which is also what makes delivery after a recovery fast; a probe that
// fails again pushes the next probe out with the retry backoff. Fresh messages are never held
// (they are the traffic rate, not a backlog): each is attempted and counts as a probe.
import { retryDelayMs, type Backoff } from './retry-policy.js';

/** Failures that say the destination is not there, as opposed to an answer it gave. */
const CONNECTION_FAILURE = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|socket hang up|unreachable|did not complete within|other side closed|fetch failed/i;

export function isConnectionFailure(reason: string): boolean {
  return CONNECTION_FAILURE.test(reason);
}

interface Circuit {
  failures: number;
  open: boolean;
  openedAt: number;
  lastError: string;
  /** Failed probes so far: the next probe waits retryDelayMs(step). */
  probeStep: number;
  nextProbeAt: number;
  probing: boolean;
}

export type Admission = { go: true; probe: boolean } | { go: false; until: number };

export interface OpenCircuit {
  destination: string;
  since: string;
  lastError: string;
  nextProbeAt: string;
}

export class DestinationCircuits {
  private readonly circuits = new Map<string, Circuit>();

  constructor(
    private readonly backoff: Backoff,
    private readonly threshold = 3,
    private readonly now: () => number = Date.now,
  ) {}

  /** May a retry for `destination` be attempted now; if not, until when it is held. */
  admit(destination: string): Admission {
    const c = this.circuits.get(destination);
    if (!c?.open) return { go: true, probe: false };
    const now = this.now();
    // Held at least one base delay: a probe slower than its own delay must not make the held spin.
    if (c.probing || now < c.nextProbeAt) return { go: false, until: Math.max(c.nextProbeAt, now + this.backoff.baseDelayMs) };
    c.probing = true;
    // If the probe never reports (the runner stops mid-call), the next one goes after this.
    c.nextProbeAt = now + retryDelayMs(this.backoff, c.probeStep + 1);
    return { go: true, probe: true };
  }

  /** The destination took a delivery (or answered at all): true when this closed an open circuit. */
  reached(destination: string): boolean {
    const c = this.circuits.get(destination);
    if (!c) return false;
    this.circuits.delete(destination);
    return c.open;
  }

  /**
   * An attempt failed; only connection failures count towards opening. Any other failure is an
   * answer from the destination (it is reachable): true when that closed an open circuit.
   */
  failed(destination: string, reason: string): boolean {
    if (!isConnectionFailure(reason)) return this.reached(destination);
    const now = this.now();
    let c = this.circuits.get(destination);
    if (!c) this.circuits.set(destination, (c = { failures: 0, open: false, openedAt: 0, lastError: '', probeStep: 0, nextProbeAt: 0, probing: false }));
    c.failures++;
    c.lastError = reason;
    if (c.open) {
      if (c.probing) {
        c.probing = false;
        c.probeStep++;
        c.nextProbeAt = now + retryDelayMs(this.backoff, c.probeStep);
      }
      return false;
    }
    if (c.failures >= this.threshold) {
      c.open = true;
      c.openedAt = now;
      c.probeStep = 1;
      c.nextProbeAt = now + retryDelayMs(this.backoff, 1);
    }
    return false;
  }

  /** A probe that ended without an outcome (stopping): let the next one go. */
  probeAbandoned(destination: string): void {
    const c = this.circuits.get(destination);
    if (c) c.probing = false;
  }

  isOpen(destination: string): boolean {
    return this.circuits.get(destination)?.open ?? false;
  }

  get openCount(): number {
    let n = 0;
    for (const c of this.circuits.values()) if (c.open) n++;
    return n;
  }

  /** For the connector's status: which destinations are held and why. */
  open(): OpenCircuit[] {
    return [...this.circuits].filter(([, c]) => c.open).map(([destination, c]) => ({
      destination,
      since: new Date(c.openedAt).toISOString(),
      lastError: c.lastError.slice(0, 300),
      nextProbeAt: new Date(c.nextProbeAt).toISOString(),
    }));
  }
}
