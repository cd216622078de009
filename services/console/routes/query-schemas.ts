// Querystring pieces shared by the console's search routes.
import { TIME_BOUND_SCHEMA, timeBound } from '../../platform/time-bound.js';

// The console reads a bare date as the start of that day in Vietnam (UTC+7): the operator's day.
export const TIME_BOUND = TIME_BOUND_SCHEMA;

export const LOCAL_DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

/** A TIME_BOUND value as an ISO instant (a bare date: local midnight, UTC+7); impossible dates are a 400. */
export function instant(value: string | undefined, field: string): string | undefined {
  return timeBound(value, field, '+07:00');
}
