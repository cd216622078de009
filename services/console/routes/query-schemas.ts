// Querystring pieces shared by the console's search routes.
import { problems } from '../../platform/problem.js';

export const TIME_BOUND = {
  type: 'string',
  // A zone is required with a time of day, so a query never depends on the server's zone; a
  // bare date is the start of that day in Vietnam (UTC+7).
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$',
};

export const LOCAL_DATE = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

/**
 * A TIME_BOUND value as an ISO instant (a bare date: local midnight, UTC+7). Impossible dates
 * (2026-02-30) are refused rather than silently dropped from the filter.
 */
export function instant(value: string | undefined, field: string): string | undefined {
  if (!value) return undefined;
  const t = Date.parse(value.length === 10 ? `${value}T00:00:00+07:00` : value);
  const day = value.slice(0, 10);
  const [y, m, d] = day.split('-').map(Number);
  const calendar = new Date(Date.UTC(y, m - 1, d));
  if (Number.isNaN(t) || calendar.getUTCMonth() !== m - 1 || calendar.getUTCDate() !== d) {
    throw problems.validation(`Invalid querystring: ${field} is not a valid date or time`, [{ field: `querystring.${field}`, message: 'is not a valid date or time' }]);
  }
  return new Date(t).toISOString();
}
