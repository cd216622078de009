// Run-time fault knobs (PUT /_admin/faults) so tests and demos can watch the bus ride out a
// slow, flaky, throttling or restarting portal. PUT replaces the whole setting: what is
// omitted goes back to its default, so a PUT is repeatable.
import { Ajv } from 'ajv';
import { fieldErrors } from '../platform/problem-handler.js';

export interface FaultSettings {
  /** Added to every API call before it is handled. */
  latencyMs: number;
  /** Fraction of API calls refused with errorStatus before they are handled. */
  errorRate: number;
  errorStatus: 500 | 502 | 503 | 504;
  /** Fraction of API calls handled (and stored) whose answer is then lost (504). */
  lostReplyRate: number;
  /** The next `count` API calls are answered `status` with Retry-After. */
  burst: { status: 429 | 503; count: number; retryAfterSeconds: number } | null;
  /** Lifetime of sessions; shortening it also ends older sessions. null = the portal's default. */
  sessionTtlSeconds: number | null;
}

export interface FaultInput extends Partial<FaultSettings> {
  /** One-shot: end every session now (not remembered). */
  expireSessions?: boolean;
}

export const DEFAULT_FAULTS: FaultSettings = { latencyMs: 0, errorRate: 0, errorStatus: 500, lostReplyRate: 0, burst: null, sessionTtlSeconds: null };

export const faultInputSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    latencyMs: { type: 'integer', minimum: 0, maximum: 60_000 },
    errorRate: { type: 'number', minimum: 0, maximum: 1 },
    errorStatus: { enum: [500, 502, 503, 504] },
    lostReplyRate: { type: 'number', minimum: 0, maximum: 1 },
    burst: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['status', 'count'],
          properties: {
            status: { enum: [429, 503] },
            count: { type: 'integer', minimum: 1, maximum: 100_000 },
            retryAfterSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
          },
        },
      ],
    },
    sessionTtlSeconds: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: 86_400 }] },
    expireSessions: { type: 'boolean' },
  },
};

const validateInput = new Ajv({ allErrors: true }).compile(faultInputSchema);

export type InjectedFault = { status: number; retryAfterSeconds?: number; kind: 'burst' | 'error' };

export class FaultInjector {
  settings: FaultSettings = { ...DEFAULT_FAULTS };
  private burstRemaining = 0;
  injected = { burst: 0, error: 0, lostReply: 0 };

  constructor(private readonly random: () => number = Math.random) {}

  /** Validates and applies a PUT body; returns field errors instead when it is invalid. */
  apply(input: unknown): { errors: { field: string; message: string }[] } | { expireSessions: boolean } {
    const copy = structuredClone(input ?? {});
    if (!validateInput(copy)) {
      // In the bus's own words (problem-handler.ts): the allowed values of a choice named (Ajv's
      // "must be equal to one of the allowed values" named none), an unknown knob as such.
      return { errors: fieldErrors(validateInput.errors ?? [], '', copy) };
    }
    const { expireSessions = false, ...rest } = copy as FaultInput;
    this.settings = { ...DEFAULT_FAULTS, ...rest };
    if (this.settings.burst) this.settings.burst = { ...this.settings.burst, retryAfterSeconds: this.settings.burst.retryAfterSeconds ?? 1 };
    this.burstRemaining = this.settings.burst?.count ?? 0;
    return { expireSessions };
  }

  view(): FaultSettings & { burstRemaining: number; injected: FaultInjector['injected'] } {
    return { ...this.settings, burstRemaining: this.burstRemaining, injected: { ...this.injected } };
  }

  /** Waits out the latency, then decides whether this call is refused before it is handled. */
  async before(): Promise<InjectedFault | null> {
    if (this.settings.latencyMs > 0) await new Promise((r) => setTimeout(r, this.settings.latencyMs));
    if (this.burstRemaining > 0 && this.settings.burst) {
      this.burstRemaining--;
      this.injected.burst++;
      return { status: this.settings.burst.status, retryAfterSeconds: this.settings.burst.retryAfterSeconds, kind: 'burst' };
    }
    if (this.settings.errorRate > 0 && this.random() < this.settings.errorRate) {
      this.injected.error++;
      return { status: this.settings.errorStatus, kind: 'error' };
    }
    return null;
  }

  /** After a call was handled: is its answer lost? */
  loseReply(): boolean {
    if (this.settings.lostReplyRate > 0 && this.random() < this.settings.lostReplyRate) {
      this.injected.lostReply++;
      return true;
    }
    return false;
  }
}
