// The QLVB vendor guide's §2 client assertion, run as a vendor would run it: the script is taken
// out of the guide as written, run with node against a bus with a system's credentials file, and
// the token it prints is one the gateway takes. Run twice, it gets two tokens (a new jti each
// time). The guide said only "any OAuth2 library does this": which `aud`, which `kid`, how long an
// assertion may live and that it is single use were to be found by trial.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { startTestBus } from './helpers/test-bus.js';

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'qlvb-vendor-guide.md'), 'utf8');

t.test('§2: the client assertion script gets a token the gateway takes', async (t) => {
  const m = /<!-- example: client-assertion -->\s*```js\n([\s\S]*?)\n```/.exec(guide);
  if (!t.ok(m, 'the guide has the client-assertion example')) return;
  const bus = await startTestBus(t, { name: 'guide-token', runner: false });
  // Inside the project, so the script's `import 'jose'` resolves as it would for a vendor who installed it.
  const dir = mkdtempSync(join(PROJECT_ROOT, '.guide-example-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'get-token.mjs'), m![1]);
  writeFileSync(join(dir, 'credentials.json'), JSON.stringify(bus.clients.get('vp-ubnd-qlvb')), { mode: 0o600 });
  // Not execFileSync: the gateway answering the script runs in this process.
  const run = async () => (await promisify(execFile)(process.execPath, [join(dir, 'get-token.mjs'), join(dir, 'credentials.json')], { encoding: 'utf8' })).stdout.trim();

  const first = await run();
  const second = await run();
  t.match(first, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT access token is printed');
  t.not(first, second, 'run again: another assertion (its own jti), another token');
  const services = await fetch(`${bus.gateway.url}/v1/services`, { headers: { authorization: `Bearer ${second}` } });
  t.equal(services.status, 200, 'the gateway takes the token');
  const body = (await services.json()) as { services: { code: string }[] };
  t.ok(body.services.some((s) => s.code === 'document-exchange'), 'and answers for the system the credentials name');
});
