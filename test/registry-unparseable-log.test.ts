// A registry file that cannot be parsed (half-written by an editor saving in place) changes
// nothing, as the guide says — but the error logged said "systems it removes or disables are
// refused all the same", sending an operator who reads the log to look for systems refused. The
// line now says what holds: nothing in that file applies.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { LiveRegistry } from '../services/platform/live-registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { eventually, seedRegistry } from './helpers/test-bus.js';

t.test('the log line for a file that does not parse says nothing in it applies', async (t) => {
  const lines: Array<{ msg: string; err?: string }> = [];
  const log = pino({ level: 'error' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  const dir = t.testdir({ 'registry.json': JSON.stringify(seedRegistry()) });
  const file = `${dir}/registry.json`;
  const live = LiveRegistry.watching(file, new SchemaCatalogue(), log, 50);
  writeFileSync(file, JSON.stringify(seedRegistry()).slice(0, 300));
  await eventually(() => live.refused !== null, 5000);
  await eventually(() => lines.length > 0, 5000);
  t.match(lines[0].err, /not valid JSON/);
  t.notMatch(lines[0].msg, /refused all the same/, 'no claim that systems it removes are refused');
  t.match(lines[0].msg, /keeping the registry loaded before/);
  t.match(lines[0].msg, /nothing in it applies/, 'it says the file changes nothing');

  // A file that parses, with a list of systems, still says the revocations apply.
  const data = seedRegistry();
  writeFileSync(file, JSON.stringify({ ...data, unexpected: true }));
  await eventually(() => lines.length > 1, 5000);
  t.match(lines[1].msg, /refused all the same/);
});
