// edXML writes dates as YYYY/MM/DD and instants as YYYY/MM/DD HH:mm:ss (QCVN 102:2016); the
// payload schemas only check that shape (a JSON Schema pattern cannot know February), so a
// package dated 2026/02/31 or stamped 25:61:61 passed, and a receiving QLVB system would refuse
// it or, worse, file it under a date that does not exist. This checks each one is a real
// calendar date (and time of day), naming the field as the schema does. A DocumentId is checked
// where the package names its own document, not where it refers to an earlier one.
import { problems, type FieldError } from '../platform/problem.js';
import { fieldPathJoin } from '../platform/field-path.js';

const DATE = /^(\d{4})\/(\d{2})\/(\d{2})$/;
const TIMESTAMP = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Whether year/month/day names a day of the Gregorian calendar (year 1 onwards). */
function isCalendarDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

function dateProblem(value: string): string | null {
  const m = DATE.exec(value);
  if (!m) return null; // the schema judged the shape already
  return isCalendarDay(+m[1], +m[2], +m[3]) ? null : `${value} is not a calendar date (YYYY/MM/DD)`;
}

function timestampProblem(value: string): string | null {
  const m = TIMESTAMP.exec(value);
  if (!m) return null;
  if (!isCalendarDay(+m[1], +m[2], +m[3])) return `${value} is not a calendar date and time (YYYY/MM/DD HH:mm:ss)`;
  return +m[4] <= 23 && +m[5] <= 59 && +m[6] <= 59 ? null : `${value} is not a time of day (HH 00-23, mm and ss 00-59)`;
}

/** The date in a DocumentId (<senderOrganId>,<YYYY/MM/DD>,<number/notation>). */
function documentIdProblem(value: string): string | null {
  const date = value.split(',')[1];
  if (date === undefined) return null;
  const problem = dateProblem(date);
  return problem ? `DocumentId ${value}: its date ${problem.replace(`${date} `, '')}` : null;
}

/** Dates and instants by field name, wherever they appear in a package. */
const CHECKS: Record<string, (value: string) => string | null> = {
  promulgationDate: dateProblem,
  dueDate: dateProblem,
  timestamp: timestampProblem,
};

function collect(value: unknown, path: string, errors: FieldError[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => collect(v, fieldPathJoin(path, i), errors));
    return;
  }
  if (!value || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value)) {
    const field = fieldPathJoin(path, key);
    const check = CHECKS[key];
    if (check && typeof v === 'string') {
      const message = check(v);
      if (message) errors.push({ field, message });
    } else {
      collect(v, field, errors);
    }
  }
}

/** 400 naming every date, instant and DocumentId date of an edoc payload that is not on the calendar. */
export function checkEdocDates(type: string, payload: Record<string, unknown>): void {
  const errors: FieldError[] = [];
  // Only the package's own DocumentId: one that refers to an earlier document (ResponseFor, a
  // revoke or replacement) must still reach a document accepted before this check existed.
  const ownId = (payload.header as { documentId?: unknown } | undefined)?.documentId;
  const idProblem = typeof ownId === 'string' ? documentIdProblem(ownId) : null;
  if (idProblem) errors.push({ field: 'payload.header.documentId', message: idProblem });
  collect(payload, 'payload', errors);
  if (errors.length === 0) return;
  throw problems.validation(`Invalid ${type} payload: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`, errors);
}
