// `lgsp connector new` ends with the commands to run next. It proposed
// `npx tap test/<name>.test.ts test/<name>-bus.test.ts`, and the bus test under a bare tap stops
// at once ("DATABASE_URL is not set"): it needs a broker and PostgreSQL, which
// `npm test -- <file>` starts for it.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConnectorCommand } from '../services/cli/connector-command.js';

t.test('the next steps printed by lgsp connector new run as printed', async (t) => {
  const scratch = mkdtempSync(join(tmpdir(), 'lgsp-new-next-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const write0 = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  let code: number;
  try {
    code = await runConnectorCommand(['new', 'flood-gauge', '--type', 'flood.level', '--root', scratch]);
  } finally {
    process.stdout.write = write0;
  }
  t.equal(code, 0);
  t.match(out, /npx tap test\/flood-gauge\.test\.ts +\(unit test, no Kafka\)/, 'the unit test under tap');
  t.match(out, /npm test -- test\/flood-gauge-bus\.test\.ts +\(integration: starts its own Kafka and PostgreSQL\)/, 'the bus test under npm test');
  t.notMatch(out, /npx tap[^\n]*flood-gauge-bus/, 'never the bus test under a bare tap');
});
