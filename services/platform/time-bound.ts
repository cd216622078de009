// Time bounds of search queries (`from`/`to` on the console's searches and the audit API): a
// date, or a time of day with its zone, so that a query never depends on the server's zone.
// Impossible dates (2026-02-31) are refused: Date.parse rolls them over into March, and the
// filter would quietly answer another question than the one asked.
import { fieldErrorsDetail, problems } from './problem.js';

const FORM = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** The schema of a time bound (querystring or body field); the form is checked by timeBound(), which says what it expects. */
export const TIME_BOUND_SCHEMA = { type: 'string', maxLength: 40, examples: ['2026-12-03', '2026-12-03T08:30:00+07:00'] };

/**
 * What timeBound() says of a value not of the form. The commonest slip is an offset written
 * `+07:00` in a URL's query string unencoded: form decoding reads the + as a space, and the
 * caller, seeing +07:00 in the example, cannot tell what was wrong.
 */
export const TIME_BOUND_FORM_MESSAGE = 'must be a date (2026-12-03) or a time with its zone (2026-12-03T08:30:00+07:00 or …Z); in a URL\'s query string write the + as %2B (2026-12-03T08:30:00%2B07:00): a bare + reads as a space';

/**
 * TIME_BOUND_SCHEMA with the form as a pattern, for an API with an OpenAPI document (the audit
 * service's): a client generated from the document checks the form itself instead of learning it
 * from a 400. Refused by schema validation with the same message as timeBound()'s (the problem
 * handler's pattern meanings); a date not on the calendar still only by timeBound().
 */
export const DOCUMENTED_TIME_BOUND_SCHEMA = { ...TIME_BOUND_SCHEMA, pattern: FORM.source };

/** The bound as an ISO instant, a bare date read at midnight in `bareDateZone`; null when it is no real date or time. */
export function parseTimeBound(value: string, bareDateZone: 'Z' | '+07:00'): string | null {
  const form = FORM.exec(value);
  if (!form) return null;
  const [y, m, d] = [Number(form[1]), Number(form[2]), Number(form[3])];
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0–99 as 1900–1999.
  const calendar = new Date(0);
  calendar.setUTCFullYear(y, m - 1, d);
  if (calendar.getUTCFullYear() !== y || calendar.getUTCMonth() !== m - 1 || calendar.getUTCDate() !== d) return null;
  const ms = Date.parse(form[4] ? value : `${value}T00:00:00${bareDateZone}`);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** Where a bound came from, for the field a 400 names (`querystring.from`, `body.to`). */
export type RequestPart = 'querystring' | 'body';

/** parseTimeBound for a request field: undefined stays undefined, anything unreadable is a 400 naming the field. */
export function timeBound(value: string | undefined, field: string, bareDateZone: 'Z' | '+07:00', part: RequestPart = 'querystring'): string | undefined {
  if (value === undefined || value === '') return undefined;
  const iso = parseTimeBound(value, bareDateZone);
  if (iso !== null) return iso;
  const message = FORM.test(value)
    ? 'is not a date on the calendar or a time of day'
    : TIME_BOUND_FORM_MESSAGE;
  const errors = [{ field: `${part}.${field}`, message }];
  throw problems.validation(fieldErrorsDetail(errors, part, true), errors);
}

/**
 * `from` and `to` as instants (timeBound); a window that ends before it starts is a mistake to say
 * (400 naming `to`), not an empty page.
 */
export function timeWindow(from: string | undefined, to: string | undefined, bareDateZone: 'Z' | '+07:00', part: RequestPart = 'querystring'): { from?: string; to?: string } {
  const window = { from: timeBound(from, 'from', bareDateZone, part), to: timeBound(to, 'to', bareDateZone, part) };
  if (window.from && window.to && Date.parse(window.to) < Date.parse(window.from)) {
    const errors = [{ field: `${part}.to`, message: 'must not be before from' }];
    throw problems.validation(fieldErrorsDetail(errors, part, true), errors);
  }
  return window;
}
