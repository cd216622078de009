// `lgsp token <client>` prints an access token; when none can be had (the client is disabled in
// the registry, the gateway does not answer) it says why in one line and exits 1 — it crashed
// with a stack trace. So does a credentials file it cannot use (cut short, without its token URL),
// and a gateway it cannot reach is said with why (Node's fetch says only "fetch failed").
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { eventually, startTestBus } from './helpers/test-bus.js';

const CLI = join(PROJECT_ROOT, 'dist', 'services', 'cli', 'lgsp.js');

t.test('lgsp token: a token, or one line saying why not', async (t) => {
  const bus = await startTestBus(t, { name: 'cli-token', runner: false });
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-cli-token-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const creds = bus.clients.get('so-tp-qlvb')!;
  writeFileSync(join(dir, 'so-tp-qlvb.json'), JSON.stringify({ ...creds, tokenUrl: `${bus.gateway.url}/v1/token` }));
  writeFileSync(join(dir, 'nowhere.json'), JSON.stringify({ ...creds, tokenUrl: 'http://127.0.0.1:9/v1/token' }));
  // A file cut short (a copy interrupted, an editor's half-save) and one without its token URL.
  writeFileSync(join(dir, 'cut-short.json'), JSON.stringify({ ...creds, tokenUrl: `${bus.gateway.url}/v1/token` }).slice(0, 40));
  writeFileSync(join(dir, 'no-url.json'), JSON.stringify({ ...creds, tokenUrl: undefined }));
  // Asynchronously: the gateway it asks runs in this process.
  const token = (client: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'token', client, '--dir', dir], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
    });

  const ok = await token('so-tp-qlvb');
  t.equal(ok.status, 0, String(ok.stderr));
  t.match(String(ok.stdout).trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT on stdout');

  const down = await token('nowhere');
  t.equal(down.status, 1);
  t.match(String(down.stderr), /^lgsp: no token for "nowhere" from http:\/\/127\.0\.0\.1:9\/v1\/token: /);
  t.notMatch(String(down.stderr), /\n\s+at /, 'no stack trace');
  t.match(String(down.stderr), /fetch failed \([^)]+\)\n$/, 'and why the gateway was not reached, not only "fetch failed"');

  for (const [client, why] of [['cut-short', /JSON/], ['no-url', /it has no tokenUrl/]] as const) {
    const bad = await token(client);
    t.equal(bad.status, 1, `${client}: exit 1`);
    t.match(String(bad.stderr), new RegExp(`^lgsp: \\S+${client}\\.json is not a usable dev client credentials file: `), `${client}: names the file`);
    t.match(String(bad.stderr), why);
    t.notMatch(String(bad.stderr), /\n\s+at /, `${client}: no stack trace`);
    t.equal(String(bad.stderr).trim().split('\n').length, 1, `${client}: one line`);
  }

  const file = bus.config.registryFile;
  const data = JSON.parse(readFileSync(file, 'utf8'));
  for (const s of data.systems) if (s.clientId === 'so-tp-qlvb') s.disabled = true;
  writeFileSync(`${file}.new`, JSON.stringify(data));
  renameSync(`${file}.new`, file);
  const refused = await eventually(async () => {
    const r = await token('so-tp-qlvb');
    return r.status === 1 ? r : null;
  }, 15_000);
  t.match(String(refused.stderr), /^lgsp: no token for "so-tp-qlvb" from .*: token request failed: 401 client so-tp-qlvb is disabled in the registry\n$/);
});
