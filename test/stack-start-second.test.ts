// A second `lgsp start` (npm start in another terminal) on the data directory of a stack that is
// running went on to start a broker and PostgreSQL on that stack's data: the broker failed on its
// lock, PostgreSQL on postmaster.pid, and in stopping them again it took the running stack's
// broker and PostgreSQL down with it (seen: `[kafka] node 1 exited (code 1)`, `[postgres] server
// exited (code 0)` in the first stack, every /readyz 503). It now refuses at once (exit 2),
// naming the stack's pid and how to stop it, before starting anything.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLgspStart } from './helpers/lgsp-start.js';
import { stackFilePath } from '../services/stack/stack-file.js';

t.test('lgsp start on the data dir of a running stack refuses and leaves it alone', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-second-start-'));
  chmodSync(dataDir, 0o755);
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // The running stack: a live process that wrote stack.json as its own.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  t.teardown(() => other.kill());
  const running = JSON.stringify({ state: 'running', pid: other.pid, since: new Date().toISOString(), console: 'http://127.0.0.1:41234' });
  writeFileSync(stackFilePath(dataDir), running);

  const env: NodeJS.ProcessEnv = { ...process.env, LGSP_DATA_DIR: dataDir, PORT: '0', LGSP_TOPIC_PREFIX: `second-start-${process.pid}.` };
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  const { code, stdout, stderr } = await runLgspStart(env);
  t.equal(code, 2, 'exit 2 within seconds');
  t.match(stderr, new RegExp(`already running on ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(pid ${other.pid}\\)`), stderr);
  t.match(stderr, /kill -INT/, 'says how to stop it');
  t.notMatch(stdout, /starting a local Kafka broker/, 'nothing was started');
  t.equal(readFileSync(stackFilePath(dataDir), 'utf8'), running, "the running stack's file is as it was");
});
