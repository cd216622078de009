// The extension point through which domain modules (document exchange, dossier exchange) add
// their business rules to the gateway, before anything reaches Kafka (DESIGN: "no partial
// state"). The gateway knows no domain: it runs the hooks registered for a submission's type.
//  - checkPayload() sees the payload right after its JSON Schema passed: rules a schema cannot
//    state (a status lifecycle, date order). Pure and synchronous; throws a ProblemError.
//  - prepare() may rewrite the submission (e.g. move attachment bytes to the claim-check store);
//  - admit() sees every routed envelope of the submission inside the submission's PostgreSQL
//    transaction and either refuses with a ProblemError or writes its state changes there: they
//    commit only if Kafka acknowledges the submission, and roll back otherwise. Rows it locks
//    (SELECT ... FOR UPDATE) stay locked until then, on every gateway.
//  - restate() may put a refusal of the submission in the terms it came in (a package posted as
//    edXML hears of its elements, not of the JSON form it was read into).
import type { FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';
import type { Caller } from './access-token.js';
import type { BusEvent } from './bus-events.js';
import type { Envelope } from './envelope.js';
import type { Queryable } from './database.js';

/** A POST /v1/messages body for one recipient, after the submission schema passed. */
export interface SubmissionBody {
  type: string;
  to: { member: string; service?: string };
  correlationId?: string;
  payload: Record<string, unknown>;
}

export type Recipient = SubmissionBody['to'];

/** The body as submitted: `to` may list several recipients. */
export interface FanOutSubmission extends Omit<SubmissionBody, 'to'> {
  to: Recipient | Recipient[];
}

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
  checkPayload?(type: string, payload: Record<string, unknown>): void;
  prepare?(body: FanOutSubmission, sub: SubmissionContext): Promise<FanOutSubmission>;
  admit?(envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext, tx: Queryable): Promise<Admission>;
  restate?(refusal: ProblemError, type: string, sub: SubmissionContext): ProblemError;
}

/** A refusal of the submission as each hook would put it (restate()); unchanged without one. */
export function restateRefusal(hooks: SubmissionHook[], refusal: unknown, type: string, sub: SubmissionContext): unknown {
  let out = refusal;
  for (const hook of hooks) if (hook.restate && out instanceof ProblemError) out = hook.restate(out, type, sub);
  return out;
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
