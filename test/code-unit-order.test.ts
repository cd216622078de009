// Identifiers are sorted by code units, and nothing the gateway loads calls localeCompare (which
// would make ICU load its collation data into the process: code-unit-order.ts).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { byCodeUnits } from '../services/platform/code-unit-order.js';
import { PROJECT_ROOT } from '../services/platform/project-root.js';

t.test('code-unit order', async (t) => {
  t.same(['edoc.status', 'dossier.sync', 'edoc.send', 'dossier.lookup', 'a-b', 'a.b', 'ab'].sort(byCodeUnits), ['a-b', 'a.b', 'ab', 'dossier.lookup', 'dossier.sync', 'edoc.send', 'edoc.status']);
  t.equal(byCodeUnits('x', 'x'), 0);
});

t.test('the gateway and the platform code call no localeCompare', async (t) => {
  const offenders: string[] = [];
  for (const dir of ['services/gateway', 'services/gateway/routes', 'services/platform']) {
    for (const file of readdirSync(join(PROJECT_ROOT, dir)).filter((f) => f.endsWith('.ts'))) {
      if (/\.localeCompare\(/.test(readFileSync(join(PROJECT_ROOT, dir, file), 'utf8'))) offenders.push(`${dir}/${file}`);
    }
  }
  t.same(offenders, []);
});
