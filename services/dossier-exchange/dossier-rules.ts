// Dossier rules JSON Schema cannot state, contributed to the gateway by the dossier-exchange
// module (dossier-module.ts) and checked right after the payload schema, before anything
// reaches Kafka: the status lifecycle (the `x-lgsp-lifecycle` table of
// schemas/messages/dossier.progress.schema.json, one source for the gateway and for
// integrators reading GET /v1/schemas/dossier.progress), date order, and the return date that
// goes with the `returned` status. Pure and synchronous; other message types pass untouched.
import { ProblemError, problems, type FieldError } from '../platform/problem.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';

export const DOSSIER_PROGRESS_SCHEMA_ID = 'https://lgsp.example.gov.vn/schemas/messages/dossier.progress.schema.json';

export interface DossierLifecycle {
  initial: string[];
  transitions: Record<string, string[]>;
}

/** The lifecycle table as published in the dossier.progress schema. */
export function dossierLifecycle(catalogue: SchemaCatalogue): DossierLifecycle {
  const schema = catalogue.ajv.getSchema(DOSSIER_PROGRESS_SCHEMA_ID)?.schema as { 'x-lgsp-lifecycle'?: DossierLifecycle } | undefined;
  const lifecycle = schema?.['x-lgsp-lifecycle'];
  if (!lifecycle?.transitions) throw new Error(`${DOSSIER_PROGRESS_SCHEMA_ID} has no x-lgsp-lifecycle table`);
  return lifecycle;
}

// The portal's yyyyMMddHHmmss dates need four-digit years; nothing filed today predates 1990.
const EARLIEST = Date.UTC(1990, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

type Payload = Record<string, unknown>;

// The schema's date-time format (ajv-formats) also lets through forms no JavaScript date reads
// (Date.parse, as the connector converts them): an hour-only offset (`2026-01-15T08:30:00+07`)
// and a leap second. They are not dates out of range: naming the 1990–2199 range for them sent
// vendors hunting for a wrong year. Said as the schema says a date it refuses.
const UNREADABLE_DATE = 'must be an RFC 3339 date and time with its offset, e.g. 2026-01-15T08:30:00+07:00 (an offset needs its minutes: +07:00, not +07)';

/** Dates no JavaScript date reads, named by field: a 400 VALIDATION_FAILED before any rule. */
function unreadableDates(payload: Payload, fields: string[]): FieldError[] {
  return fields
    .filter((field) => typeof payload[field] === 'string' && Number.isNaN(Date.parse(payload[field] as string)))
    .map((field) => ({ field: `payload.${field}`, message: UNREADABLE_DATE }));
}

function checkDates(payload: Payload, fields: string[], errors: FieldError[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const field of fields) {
    const value = payload[field];
    if (typeof value !== 'string') continue;
    const ms = Date.parse(value);
    if (ms < EARLIEST || ms >= LATEST) errors.push({ field: `payload.${field}`, message: 'must be a date between 1990 and 2199' });
    else times.set(field, ms);
  }
  return times;
}

const DATE_FIELDS: Record<string, string[]> = {
  'dossier.sync': ['receivedAt', 'dueAt', 'returnedAt'],
  'dossier.progress': ['handledAt', 'stepStartedAt', 'stepDueAt', 'returnedAt'],
  'dossier.submitted': ['submittedAt', 'dueAt'],
};

function notBefore(times: Map<string, number>, later: string, earlier: string, errors: FieldError[]): void {
  const a = times.get(later);
  const b = times.get(earlier);
  if (a !== undefined && b !== undefined && a < b) errors.push({ field: `payload.${later}`, message: `must not be before ${earlier}` });
}

function returnDateMatchesStatus(payload: Payload, errors: FieldError[]): void {
  const returned = payload.status === 'returned';
  if (returned && payload.returnedAt === undefined) errors.push({ field: 'payload.returnedAt', message: 'required when status is returned' });
  if (!returned && payload.returnedAt !== undefined) errors.push({ field: 'payload.returnedAt', message: 'allowed only when status is returned' });
}

/**
 * Throws a 400 VALIDATION_FAILED problem for dates that cannot be read, else a 422
 * DOSSIER_RULES_VIOLATED problem naming every failing field.
 */
export function enforceDossierRules(type: string, payload: Payload, catalogue: SchemaCatalogue): void {
  const unreadable = unreadableDates(payload, DATE_FIELDS[type] ?? []);
  if (unreadable.length > 0) throw problems.validation(`Invalid ${type} payload: ${unreadable.map((e) => `${e.field} ${e.message}`).join('; ')}`, unreadable);
  const errors: FieldError[] = [];
  switch (type) {
    case 'dossier.sync': {
      const times = checkDates(payload, DATE_FIELDS[type], errors);
      notBefore(times, 'dueAt', 'receivedAt', errors);
      notBefore(times, 'returnedAt', 'receivedAt', errors);
      returnDateMatchesStatus(payload, errors);
      break;
    }
    case 'dossier.progress': {
      const { transitions } = dossierLifecycle(catalogue);
      const from = String(payload.previousStatus);
      const to = String(payload.status);
      const allowed = transitions[from] ?? [];
      if (!allowed.includes(to)) {
        errors.push({
          field: 'payload.status',
          message: allowed.length
            ? `a dossier cannot go from ${from} to ${to}; from ${from} it may go to ${allowed.join(', ')}`
            : `a dossier cannot go from ${from} to ${to}; ${from} is final`,
        });
      }
      const times = checkDates(payload, DATE_FIELDS[type], errors);
      notBefore(times, 'stepDueAt', 'stepStartedAt', errors);
      returnDateMatchesStatus(payload, errors);
      break;
    }
    case 'dossier.submitted': {
      const times = checkDates(payload, DATE_FIELDS[type], errors);
      notBefore(times, 'dueAt', 'submittedAt', errors);
      break;
    }
    default:
      return;
  }
  if (errors.length > 0) {
    throw new ProblemError(422, 'DOSSIER_RULES_VIOLATED', 'The dossier breaks a dossier rule', `Invalid ${type}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, { errors });
  }
}
