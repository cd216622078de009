// The error-code registry is the one list of codes, and README's table says the same thing.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { ERROR_CODES } from '../services/platform/error-codes.js';
import { ProblemError } from '../services/platform/problem.js';

t.test('README lists every registered error code with its statuses, and no other', async (t) => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = /\n### Error codes\n([\s\S]*?)\n#/.exec(readme)?.[1] ?? '';
  t.ok(section, 'README has an "Error codes" section');
  const rows = new Map([...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([\d, ]+) \| (.+) \|$/gm)].map((m) => [m[1], { status: m[2], meaning: m[3] }]));
  t.same([...rows.keys()].sort(), Object.keys(ERROR_CODES).sort(), 'the same codes');
  for (const [code, entry] of Object.entries(ERROR_CODES)) {
    t.equal(rows.get(code)?.status, entry.status.join(', '), `${code}: same statuses`);
    t.ok(entry.meaning.length > 10, `${code} says what it means`);
  }
});

t.test('a problem names its registered code in `code` and `type`', async (t) => {
  const body = new ProblemError(422, 'UNKNOWN_MEMBER', 'Unknown recipient', 'No member 000.00.99.H49').toBody();
  t.match(body, { code: 'UNKNOWN_MEMBER', status: 422, type: 'https://lgsp.example.gov.vn/problems/unknown-member' });
  t.ok((ERROR_CODES[body.code as keyof typeof ERROR_CODES].status as readonly number[]).includes(body.status), 'with one of its registered statuses');
});
