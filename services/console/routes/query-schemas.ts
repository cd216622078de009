// Querystring pieces shared by the console's search routes.
import { timeBound, type RequestPart } from '../../platform/time-bound.js';

export const LOCAL_DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

/**
 * A time bound (TIME_BOUND_SCHEMA) as an ISO instant. The console reads a bare date as the start
 * of that day in Vietnam (UTC+7), the operator's day; impossible dates are a 400.
 */
export function instant(value: string | undefined, field: string, part: RequestPart = 'querystring'): string | undefined {
  return timeBound(value, field, '+07:00', part);
}
