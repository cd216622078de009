// One submission, several recipients: `to` may be a list, and each recipient becomes its own
// envelope (own message id, delivered, tracked and retried separately) sharing the correlation
// id. Every recipient is routed — schema, member, service, access right — before any of them
// is accepted, so a refusal for one refuses the whole submission with the recipient named.
import type { Caller } from '../platform/access-token.js';
import { ProblemError } from '../platform/problem.js';
import type { Registry, Service } from '../platform/registry.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';
import type { FanOutSubmission, Recipient, SubmissionBody, SubmissionHook } from '../platform/submission-hooks.js';
import { authorizeSubmission, routeSubmission, type RoutedSubmission } from './submission.js';

export function recipientsOf(body: FanOutSubmission): Recipient[] {
  return Array.isArray(body.to) ? body.to : [body.to];
}

/** `idFor`: the message id of the i-th recipient's envelope (idempotent submissions). */
export function routeRecipients(body: FanOutSubmission, caller: Caller, registry: Registry, catalogue: SchemaCatalogue, rules: readonly SubmissionHook[] = [], idFor?: (index: number) => string): RoutedSubmission[] {
  return eachRecipient(body, (one, i) => routeSubmission(one, caller, registry, catalogue, rules, idFor?.(i)), (routed) => routed.service);
}

/**
 * Checks type, recipients and access rights only, before anything looks at the payload (hooks
 * included): a caller without the right to a service learns nothing about what it accepts.
 */
export function authorizeRecipients(body: FanOutSubmission, caller: Caller, registry: Registry, catalogue: SchemaCatalogue): void {
  eachRecipient(body, (one) => authorizeSubmission(one, caller, registry, catalogue), (service) => service);
}

/**
 * Duplicates are judged on the service each entry resolves to, not on how it is written: `{member}`
 * and `{member, service}` naming the same service would otherwise deliver the message twice.
 */
function eachRecipient<T>(body: FanOutSubmission, route: (one: SubmissionBody, index: number) => T, serviceOf: (routed: T) => Service): T[] {
  if (!Array.isArray(body.to)) return [route(body as SubmissionBody, 0)];
  const seen = new Set<string>();
  return body.to.map((to, i) => {
    const routed = routeOne(body, to, i, route);
    const service = serviceOf(routed);
    const key = `${service.provider}\u0000${service.code}`;
    if (seen.has(key)) {
      throw new ProblemError(400, 'DUPLICATE_RECIPIENT', 'Duplicate recipient', `to[${i}] (${to.member}): service "${service.code}" of ${service.provider} is already a recipient of this submission`, { errors: [{ field: `to[${i}].member`, message: 'duplicate recipient' }] });
    }
    seen.add(key);
    return routed;
  });
}

function routeOne<T>(body: FanOutSubmission, to: Recipient, i: number, route: (one: SubmissionBody, index: number) => T): T {
  try {
    return route({ ...body, to }, i);
  } catch (err) {
    if (!(err instanceof ProblemError)) throw err;
    // Payload errors are the same for every recipient: report them as they are.
    if (err.extras.errors && !err.extras.errors.some((e) => /^to(\.|$)/.test(e.field))) throw err;
    const errors = err.extras.errors?.map((e) => ({ ...e, field: e.field.replace(/^to(?=\.|$)/, `to[${i}]`) }));
    throw new ProblemError(err.status, err.code, err.title, `to[${i}] (${to.member}): ${err.detail}`, { ...err.extras, ...(errors ? { errors } : {}) });
  }
}
