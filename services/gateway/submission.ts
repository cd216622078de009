// Turns a validated POST /v1/messages body into a routed envelope: checks the message type,
// the recipient, the service and the caller's access right, and only then the payload against
// its schema (authorise before validating: a caller without the right gets 403, never a
// description of the schema). Pure: no I/O,
// so every refusal happens before anything reaches Kafka (no partial state).
import type { Caller } from '../platform/access-token.js';
import { createEnvelope, normalizeNfc, type Envelope } from '../platform/envelope.js';
import { problems, ProblemError } from '../platform/problem.js';
import { fieldErrors } from '../platform/problem-handler.js';
import type { Registry, Service } from '../platform/registry.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';
import type { SubmissionBody, SubmissionHook } from '../platform/submission-hooks.js';

export interface RoutedSubmission {
  envelope: Envelope<Record<string, unknown>>;
  service: Service;
}

/** Refusals that name the registry: an edit this gateway has not read yet may have lifted them. */
const REGISTRY_REFUSALS = new Set(['UNKNOWN_MEMBER', 'UNKNOWN_SERVICE', 'SERVICE_FORBIDDEN']);

/**
 * `use` with the registry in use; when that refuses by the registry (an unknown member or service,
 * no access right), once more with the file as it is now (LiveRegistry.latest), and the first
 * refusal stands when the file has not changed. Each gateway reads the file on its own timer: a
 * member, service or access right just added works at once, on every gateway, not after the
 * next check. Returns what `use` returned and the registry it used, for the rest of the request.
 */
export function withRegistryCaughtUp<T>(registry: () => Registry, latest: () => Registry, use: (registry: Registry) => T): { result: T; registry: Registry } {
  const current = registry();
  try {
    return { result: use(current), registry: current };
  } catch (err) {
    if (!(err instanceof ProblemError) || !REGISTRY_REFUSALS.has(err.code)) throw err;
    const now = latest();
    if (now === current) throw err;
    return { result: use(now), registry: now };
  }
}

/** The service a submission goes to, when the caller may use it; no look at the payload. */
export function authorizeSubmission(body: Pick<SubmissionBody, 'type' | 'to'>, caller: Caller, registry: Registry, catalogue: SchemaCatalogue): Service {
  if (!catalogue.payloadValidator(body.type)) {
    throw new ProblemError(400, 'UNKNOWN_MESSAGE_TYPE', 'Unknown message type', `Message type "${body.type}" is not offered on this bus; see GET /v1/services`, {
      errors: [{ field: 'type', message: 'unknown message type' }],
    });
  }
  if (!registry.member(body.to.member)) {
    throw new ProblemError(422, 'UNKNOWN_MEMBER', 'Unknown recipient', `No member with code ${body.to.member} in the directory (GET /v1/members)`, {
      errors: [{ field: 'to.member', message: 'unknown member' }],
    });
  }
  const offered = registry.servicesOf(body.to.member, body.to.service).filter((s) => s.messageTypes.includes(body.type));
  if (offered.length === 0) {
    const what = body.to.service ? `service "${body.to.service}" accepting ${body.type}` : `a service accepting ${body.type}`;
    // Without a named service the recipient is what is wrong (an agency with no system taking
    // this type, e.g. no QLVB for a document), so the field is its code: `to[i].member` in a
    // list, the To element of a package posted as XML. `type` pointed at the one thing the
    // sender had right.
    throw new ProblemError(422, 'UNKNOWN_SERVICE', 'No such service', `Member ${body.to.member} does not provide ${what} (GET /v1/services lists the services you may send to)`, {
      errors: [body.to.service ? { field: 'to.service', message: 'not provided by the recipient' } : { field: 'to.member', message: `provides no service accepting ${body.type}` }],
    });
  }
  if (offered.length === 1) {
    const service = offered[0];
    if (!registry.isAllowed(caller.clientId, service)) {
      throw problems.forbidden('SERVICE_FORBIDDEN', `Client ${caller.clientId} has no access right to service "${service.code}" of ${service.provider}`);
    }
    return deliverable(service, body, catalogue);
  }
  // Several services take this type and none was named: only those the caller may use count, so
  // a caller with the right to one of them need not name it, and the refusal never names a
  // service the caller has no right to.
  const usable = offered.filter((s) => registry.isAllowed(caller.clientId, s));
  if (usable.length === 0) {
    throw problems.forbidden('SERVICE_FORBIDDEN', `Client ${caller.clientId} has no access right to a service of ${body.to.member} accepting ${body.type}`);
  }
  if (usable.length > 1) {
    throw new ProblemError(422, 'AMBIGUOUS_SERVICE', 'Service required', `Member ${body.to.member} provides several services for ${body.type} that you may use (${usable.map((s) => s.code).join(', ')}); name one in to.service`, {
      errors: [{ field: 'to.service', message: 'required for this recipient and type' }],
    });
  }
  return deliverable(usable[0], body, catalogue);
}

/**
 * The service, if the connector its registry entry names is the one that delivers the type. A
 * registry entry naming another connector (a misspelt `"connector"`, or one that declares other
 * types) had its messages accepted onto a topic no runner reads: 202, then `accepted` for ever.
 * Checked once the caller is known to have the right, so nobody else learns of the entry.
 */
function deliverable(service: Service, body: Pick<SubmissionBody, 'type' | 'to'>, catalogue: SchemaCatalogue): Service {
  const owner = catalogue.messageTypes.get(body.type)?.connector;
  if (owner === undefined || owner === service.connector) return service;
  throw new ProblemError(422, 'UNKNOWN_SERVICE', 'No such service', `Service "${service.code}" of ${body.to.member} cannot take ${body.type}: its registry entry names connector "${service.connector}", and ${body.type} is delivered by connector "${owner}". Nothing was accepted; the bus operator must correct the registry entry`, {
    errors: [{ field: body.to.service ? 'to.service' : 'type', message: 'the service cannot deliver this message type (registry entry)' }],
  });
}

/** `rules`: the submission hooks of the body's type; their checkPayload() runs after the schema. */
/** `id`: the message id to give the envelope (an idempotent submission's); a new UUIDv7 without it. */
export function routeSubmission(body: SubmissionBody, caller: Caller, registry: Registry, catalogue: SchemaCatalogue, rules: readonly SubmissionHook[] = [], id?: string): RoutedSubmission {
  const service = authorizeSubmission(body, caller, registry, catalogue);
  const validatePayload = catalogue.payloadValidator(body.type)!;
  // Only a caller with the access right learns what the payload schema wants.
  const payload = normalizeNfc(body.payload);
  if (!validatePayload(payload)) {
    const errors = fieldErrors(validatePayload.errors ?? [], 'payload', payload);
    throw problems.validation(`Invalid ${body.type} payload: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors);
  }
  for (const rule of rules) rule.checkPayload?.(body.type, payload);
  const envelope = createEnvelope({
    id,
    type: body.type,
    from: { member: caller.member, system: caller.clientId },
    to: { member: service.provider, service: service.code },
    correlationId: body.correlationId?.normalize('NFC'),
    data: payload,
  });
  return { envelope, service };
}
