// Business rules a connector family needs enforced at the gateway, before anything reaches
// Kafka (DESIGN: "no partial state"). POST /v1/messages runs the hooks registered for a type:
// prepare() may rewrite the submission (e.g. move attachment bytes to the claim-check store),
// admit() sees every routed envelope of the submission and either refuses with a ProblemError
// or returns an Admission that the route commits once Kafka has acknowledged, or releases.
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../platform/access-token.js';
import type { BusEvent } from '../platform/bus-events.js';
import type { Envelope } from '../platform/envelope.js';
import type { FanOutSubmission } from './fan-out.js';

export interface SubmissionContext {
  caller: Caller;
  request: FastifyRequest;
}

export interface Admission {
  /** Extra events published with the messages (e.g. a business status on an earlier message). */
  events?: BusEvent[];
  /** Kafka acknowledged the submission: make its effects visible. */
  commit(): void;
  /** The submission was not accepted after all: undo any reservation. */
  release(): void;
}

export interface SubmissionHook {
  types: readonly string[];
  prepare?(body: FanOutSubmission, sub: SubmissionContext): Promise<FanOutSubmission>;
  admit?(envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext): Promise<Admission>;
}

export function hooksFor(hooks: SubmissionHook[] | undefined, type: string): SubmissionHook[] {
  return (hooks ?? []).filter((h) => h.types.includes(type));
}

/** Runs admit() of each hook; if one refuses, those already admitted are released. */
export async function admitAll(hooks: SubmissionHook[], envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext): Promise<Admission> {
  const admitted: Admission[] = [];
  try {
    for (const hook of hooks) if (hook.admit) admitted.push(await hook.admit(envelopes, sub));
  } catch (err) {
    for (const a of admitted) a.release();
    throw err;
  }
  return {
    events: admitted.flatMap((a) => a.events ?? []),
    commit: () => admitted.forEach((a) => a.commit()),
    release: () => admitted.forEach((a) => a.release()),
  };
}
