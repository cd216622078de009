// A service started on a configuration it cannot use — its key file missing or broken, no public
// keyset, no registry — stops with exit code 2 and one line on stderr that names the file and
// says what to do, as a wrong setting does (service-main.ts). The runner used to crash on a
// missing key file with a full Node stack trace around that message. An error nobody foresaw
// still shows its stack trace: it is a bug to report, and the trace is what finds it.
// The real process (dist/services/<service>/main.js), on a data directory of its own: each
// case fails before the service reaches Kafka or PostgreSQL.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { privateKeyFile } from '../services/platform/key-files.js';
import { createTestKeys } from './helpers/test-keys.js';
import { seedRegistry } from './helpers/test-bus.js';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Ended> {
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

/** The service's environment: only its data directory, nothing that points elsewhere. */
function serviceEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LGSP_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'error' };
  for (const name of ['LGSP_CONFIG', 'LGSP_KEYS_DIR', 'LGSP_JWKS_FILE', 'LGSP_REGISTRY_FILE']) delete env[name];
  return env;
}

/** A data directory the runner could start from, but for what `breakIt` takes away. */
async function dataDir(t: Test, breakIt: (dir: string) => void): Promise<string> {
  const dir = t.testdir();
  await createTestKeys(dir);
  writeFileSync(join(dir, 'registry.json'), JSON.stringify(seedRegistry()));
  breakIt(dir);
  return dir;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const runnerMain = join(PROJECT_ROOT, 'dist', 'services', 'runner', 'main.js');

/** Exit code 2, nothing on stderr but `line`: no stack trace. */
function assertOneLine(t: Test, ended: Ended, line: RegExp): void {
  t.equal(ended.signal, null, 'it exits by itself');
  t.equal(ended.code, 2, 'with exit code 2, as a wrong setting does');
  const lines = ended.stderr.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1, `one line on stderr:\n${ended.stderr}`);
  t.match(lines[0], line);
  t.notMatch(ended.stderr, /^\s+at /m, 'no stack trace');
  t.notMatch(ended.stdout, /listening on/);
}

t.test('the runner without its key file: one line naming the file and what to do', async (t) => {
  let file = '';
  const dir = await dataDir(t, (d) => {
    file = privateKeyFile(join(d, 'keys'), 'runner', 'record');
    rmSync(file);
  });
  const ended = await run([runnerMain], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^runner: no record key for the runner service at ${escape(file)} \\(run \`lgsp keys init\`, or mount its key Secret\\)$`));
});

t.test('the gateway without its token key: the same line, for the gateway', async (t) => {
  let file = '';
  const dir = await dataDir(t, (d) => {
    file = privateKeyFile(join(d, 'keys'), 'gateway', 'token');
    rmSync(file);
  });
  const ended = await run([join(PROJECT_ROOT, 'dist', 'services', 'gateway', 'main.js')], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^gateway: no token key for the gateway service at ${escape(file)} \\(run \`lgsp keys init\`, or mount its key Secret\\)$`));
});

t.test('the runner without its payload-encryption key: restore it first, a new key only on a first run', async (t) => {
  let file = '';
  const dir = await dataDir(t, (d) => {
    file = privateKeyFile(join(d, 'keys'), 'runner', 'payload-encryption');
    rmSync(file);
  });
  const ended = await run([runnerMain], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^runner: no payload-encryption key for the runner service at ${escape(file)}: restore the file from your backup or mount its key Secret`));
  t.match(ended.stderr, /Incident: a payload-encryption key is lost/, 'pointing at the incident procedure');
  t.match(ended.stderr, /on a first run, `lgsp keys init` creates it/);
});

t.test('the runner with a key file it cannot read: the file and the reason', async (t) => {
  let file = '';
  const dir = await dataDir(t, (d) => {
    file = privateKeyFile(join(d, 'keys'), 'runner', 'delivery');
    writeFileSync(file, '{ "keys": [');
  });
  const ended = await run([runnerMain], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^runner: cannot read the delivery key of the runner service from ${escape(file)}: .*JSON`));
});

t.test('a key file that is a directory (a Secret mounted one level off)', async (t) => {
  let file = '';
  const dir = await dataDir(t, (d) => {
    file = privateKeyFile(join(d, 'keys'), 'runner', 'payload-encryption');
    rmSync(file);
    mkdirSync(file);
  });
  const ended = await run([runnerMain], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^runner: cannot read the payload-encryption key of the runner service from ${escape(file)}: .*EISDIR`));
});

t.test('the runner without the public keyset', async (t) => {
  let file = '';
  const dir = await dataDir(t, (d) => {
    file = join(d, 'keys', 'public', 'jwks.json');
    rmSync(file);
  });
  const ended = await run([runnerMain], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^runner: cannot read the public keyset ${escape(file)}: ENOENT`));
});

t.test('the runner without a registry file', async (t) => {
  const dir = await dataDir(t, (d) => rmSync(join(d, 'registry.json')));
  const ended = await run([runnerMain], serviceEnv(dir));
  assertOneLine(t, ended, new RegExp(`^runner: cannot read registry ${escape(join(dir, 'registry.json'))}: ENOENT`));
});

t.test('a service without KAFKA_BROKERS', async (t) => {
  const dir = await dataDir(t, () => undefined);
  const env = serviceEnv(dir);
  delete env.KAFKA_BROKERS;
  const ended = await run([join(PROJECT_ROOT, 'dist', 'services', 'audit', 'main.js')], env);
  assertOneLine(t, ended, /^audit service: no Kafka brokers configured \(KAFKA_BROKERS\)$/);
});

t.test('an unexpected error while starting keeps its stack trace', async (t) => {
  const serviceMain = pathToFileURL(join(PROJECT_ROOT, 'dist', 'services', 'platform', 'service-main.js')).href;
  const script = `import { runServiceMain } from ${JSON.stringify(serviceMain)};
await runServiceMain('probe', async () => { throw new TypeError('something nobody foresaw'); });`;
  const ended = await run(['--input-type=module', '-e', script], serviceEnv(t.testdir()));
  t.not(ended.code, 0, 'a failure exit');
  t.not(ended.code, 2, 'not the exit code of a configuration error');
  t.match(ended.stderr, /TypeError: something nobody foresaw/);
  t.match(ended.stderr, /^\s+at /m, 'with its stack trace');
});
