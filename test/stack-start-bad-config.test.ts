// `lgsp start` (npm start) with a mistyped environment value — `LOG_LEVEL=DEBUG` — started the
// broker and PostgreSQL, then every service crashed on the value with a stack trace and was
// restarted with backoff, for ever. The stack now checks the configuration first and stops at
// once, in one line naming the variable (exit 2), before starting anything.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';

const CLI = join(PROJECT_ROOT, 'dist', 'services', 'cli', 'lgsp.js');

t.test('lgsp start with LOG_LEVEL=DEBUG stops at once, naming the variable', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-bad-config-'));
  // Run as root, the stack's PostgreSQL runs as its own user and must reach the data dir.
  chmodSync(dataDir, 0o755);
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'DEBUG', LGSP_DATA_DIR: dataDir, PORT: '0', LGSP_TOPIC_PREFIX: `bad-config-${process.pid}.` };
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'running'>((r) => (timer = setTimeout(() => r('running'), 40_000)))]);
  clearTimeout(timer);
  if (code === 'running') {
    child.kill('SIGINT');
    await exited;
  }
  t.equal(code, 2, 'exit 2 within seconds');
  t.match(stderr, /^lgsp start: invalid configuration: LOG_LEVEL \(logLevel\) .*"DEBUG"\n$/, 'one line naming the variable and the value');
  t.notMatch(stdout, /starting a local Kafka broker/, 'nothing was started');
});
