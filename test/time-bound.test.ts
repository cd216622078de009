// Search time bounds: a date or a time with its zone; impossible dates refused, not rolled over.
import t from 'tap';
import { parseTimeBound, timeBound } from '../services/platform/time-bound.js';
import { ProblemError } from '../services/platform/problem.js';

t.test('dates and zoned times read as instants', async (t) => {
  t.equal(parseTimeBound('2026-12-03', 'Z'), '2026-12-03T00:00:00.000Z');
  t.equal(parseTimeBound('2026-12-03', '+07:00'), '2026-12-02T17:00:00.000Z', 'a bare date at midnight in Vietnam');
  t.equal(parseTimeBound('2026-12-03T08:30+07:00', 'Z'), '2026-12-03T01:30:00.000Z');
  t.equal(parseTimeBound('2024-02-29T23:59:59.5Z', 'Z'), '2024-02-29T23:59:59.500Z', 'a leap day');
  t.equal(parseTimeBound('0050-03-01', 'Z'), '0050-03-01T00:00:00.000Z', 'a year under 100 is that year, not 1950');
  t.equal(parseTimeBound('0004-02-29', 'Z'), '0004-02-29T00:00:00.000Z', 'and its leap day is checked on its own calendar');
});

t.test('anything else is refused', async (t) => {
  for (const bad of ['2026-02-31', '2026-02-29', '2026-13-01', '2026-00-10', '2026-01-01T25:00Z', '2026-01-01T10:00', 'yesterday', '2026-1-1', ' 2026-01-01', '0100-02-29']) {
    t.equal(parseTimeBound(bad, 'Z'), null, bad);
  }
  t.equal(timeBound(undefined, 'from', 'Z'), undefined);
  const refused = (() => {
    try {
      timeBound('2026-02-31', 'from', 'Z');
    } catch (err) {
      return err;
    }
  })();
  t.ok(refused instanceof ProblemError, 'a problem');
  t.match(refused, { status: 400, code: 'VALIDATION_FAILED', extras: { errors: [{ field: 'querystring.from' }] } });
  const inBody = (() => {
    try {
      timeBound('soon', 'to', 'Z', 'body');
    } catch (err) {
      return err;
    }
  })();
  t.match(inBody, { status: 400, detail: /^Invalid body: to /, extras: { errors: [{ field: 'body.to' }] } }, 'a body field is named as one');
});
