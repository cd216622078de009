// The words operators read for a period: a key's grace, a timeout in the OpenAPI document.
import t from 'tap';
import { formatPeriod } from '../services/platform/duration-text.js';

t.test('a period in the units it is set in', async (t) => {
  t.equal(formatPeriod(8 * 86_400), '8 days');
  t.equal(formatPeriod(86_400 + 6 * 3600), '1 day 6 h');
  t.equal(formatPeriod(7 * 86_400 + 3 * 3600 + 46 * 60 + 40), '7 days 3 h 46 min 40 s');
  t.equal(formatPeriod(90), '1 min 30 s');
  t.equal(formatPeriod(300), '5 min');
  t.equal(formatPeriod(0), '0 s');
  t.equal(formatPeriod(1.5), '1.5 s', 'a timeout set in milliseconds keeps its fraction under a minute');
  t.equal(formatPeriod(0.25), '0.25 s');
});
