// Business rules a connector family needs enforced at the gateway, before anything reaches
// Kafka (DESIGN: "no partial state"). POST /v1/messages runs the hooks registered for a type:
// prepare() may rewrite the submission (e.g. move attachment bytes to the claim-check store),
// admit() sees every routed envelope of the submission inside the submission's PostgreSQL
// transaction and either refuses with a ProblemError or writes its state changes there: they
// commit only if Kafka acknowledges the submission, and roll back otherwise. Rows it locks
// (SELECT ... FOR UPDATE) stay locked until then, on every gateway.
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../platform/access-token.js';
import type { BusEvent } from '../platform/bus-events.js';
import type { Envelope } from '../platform/envelope.js';
import type { FanOutSubmission } from './fan-out.js';
import type { Queryable } from '../platform/database.js';

export interface SubmissionContext {
  caller: Caller;
  request: FastifyRequest;
}

export interface Admission {
  /** Extra events published with the messages (e.g. a business status on an earlier message). */
  events?: BusEvent[];
}

export interface SubmissionHook {
  types: readonly string[];
  prepare?(body: FanOutSubmission, sub: SubmissionContext): Promise<FanOutSubmission>;
  admit?(envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext, tx: Queryable): Promise<Admission>;
}

export function hooksFor(hooks: SubmissionHook[] | undefined, type: string): SubmissionHook[] {
  return (hooks ?? []).filter((h) => h.types.includes(type));
}

/** Runs admit() of each hook in the submission's transaction; a refusal rolls all of them back. */
export async function admitAll(hooks: SubmissionHook[], envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext, tx: Queryable): Promise<Admission> {
  const events: BusEvent[] = [];
  for (const hook of hooks) if (hook.admit) events.push(...((await hook.admit(envelopes, sub, tx)).events ?? []));
  return { events };
}
