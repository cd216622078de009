// Querystring pieces shared by the console's search routes.
import { timeBound, timeWindow as platformTimeWindow, type RequestPart } from '../../platform/time-bound.js';

export const LOCAL_DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

/**
 * A time bound (TIME_BOUND_SCHEMA) as an ISO instant. The console reads a bare date as the start
 * of that day in Vietnam (UTC+7), the operator's day; impossible dates are a 400.
 */
export function instant(value: string | undefined, field: string, part: RequestPart = 'querystring'): string | undefined {
  return timeBound(value, field, '+07:00', part);
}

/** `from` and `to` as instants, a bare date read in Vietnam (UTC+7); a window that ends before it starts is a 400. */
export function timeWindow(from: string | undefined, to: string | undefined, part: RequestPart = 'querystring'): { from?: string; to?: string } {
  return platformTimeWindow(from, to, '+07:00', part);
}

/**
 * Search filters in the form the console stores text: NFC (DESIGN §7, "NFC end to end"). The same
 * Vietnamese text typed on macOS, by some input methods or copied from a PDF arrives decomposed
 * (NFD): compared as it is, it would find nothing. Strings (and lists of them) are normalised,
 * anything else is left as it is.
 */
export function nfcFilters<T extends object>(filters: T): T {
  const nfc = (v: unknown) => (typeof v === 'string' ? v.normalize('NFC') : v);
  return Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, Array.isArray(v) ? v.map(nfc) : nfc(v)])) as T;
}
