// docs/one-stop-shop-guide.md §9 "Running it alone": the command it gives started nothing — it
// named no database, and the mock portal stopped with "DATABASE_URL is required", a variable the
// guide's table names only as the fallback of MOCK_PORTAL_DATABASE_URL. The command now names the
// portal's own database, which this test fills in (an empty one), and the refusal names both.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { createTestDatabase } from './helpers/test-database.js';

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'one-stop-shop-guide.md'), 'utf8');
const section = guide.slice(guide.indexOf('### Running it alone'));
const command = /```sh\n(.+?)\n```/s.exec(section)![1].trim();

/** The command's VAR=value assignments, and the script it runs. */
function parse(t: Test, line: string): { env: Record<string, string>; script: string } {
  const words = line.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name] = value.join('=');
  }
  t.equal(words[0], 'node', 'the command runs node');
  return { env, script: words[1] };
}

function run(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; url?: string; stop(): void }> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, script)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve) => {
    const stop = () => child.kill('SIGKILL');
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve({ code: null, output, url: m[1], stop });
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output, stop }));
  });
}

t.test("the guide's command for the mock portal alone starts it", async (t) => {
  const { env, script } = parse(t, command);
  t.ok('MOCK_PORTAL_DATABASE_URL' in env || 'DATABASE_URL' in env, `the command names the portal's database: ${command}`);

  // Without any database: stopped at once, naming the variable to set.
  const base = { PATH: process.env.PATH ?? '', MOCK_PORTAL_USERNAME: env.MOCK_PORTAL_USERNAME, MOCK_PORTAL_PASSWORD: 'mật khẩu', PORT: '0' };
  const refused = await run(script, base);
  t.equal(refused.code, 1, 'exit code 1');
  t.match(refused.output, /MOCK_PORTAL_DATABASE_URL \(or DATABASE_URL\) is required/, 'the refusal names MOCK_PORTAL_DATABASE_URL');

  // With the placeholders filled in (an empty database of its own, a free port): it serves.
  const database = await createTestDatabase('mock-portal-alone');
  t.teardown(() => database.drop());
  const filled = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k.endsWith('DATABASE_URL') ? database.url : k === 'PORT' ? '0' : v.replace('…', 'mật khẩu')]));
  const started = await run(script, { PATH: process.env.PATH ?? '', ...filled });
  t.teardown(() => started.stop());
  t.ok(started.url, `it listens (${started.output.slice(-500)})`);
  const login = await fetch(`${started.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: env.MOCK_PORTAL_USERNAME, password: 'mật khẩu' }) });
  const answer = (await login.json()) as { error_code: string; session?: string };
  t.equal(answer.error_code, '0', 'the account of the command logs in');
  const lookup = await fetch(`${started.url}/api/share`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: answer.session, madonvi: '000.00.15.H49', service: 'TraCuuHoSo', mahoso: 'X-1' }) });
  t.same(await lookup.json(), { error_code: '0', message: 'Thành công', result: [] }, 'and it answers from its (empty) database');
});
