// `lgsp start` (npm start) with a mistyped environment value — `LOG_LEVEL=DEBUG` — started the
// broker and PostgreSQL, then every service crashed on the value with a stack trace and was
// restarted with backoff, for ever. The stack now checks the configuration first and stops at
// once, in one line naming the variable (exit 2), before starting anything.
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLgspStart } from './helpers/lgsp-start.js';

t.test('lgsp start with LOG_LEVEL=DEBUG stops at once, naming the variable', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-bad-config-'));
  // Run as root, the stack's PostgreSQL runs as its own user and must reach the data dir.
  chmodSync(dataDir, 0o755);
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'DEBUG', LGSP_DATA_DIR: dataDir, PORT: '0', LGSP_TOPIC_PREFIX: `bad-config-${process.pid}.` };
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  const { code, stdout, stderr } = await runLgspStart(env);
  t.equal(code, 2, 'exit 2 within seconds');
  t.match(stderr, /^lgsp start: invalid configuration: LOG_LEVEL \(logLevel\) .*"DEBUG"\n$/, 'one line naming the variable and the value');
  t.notMatch(stdout, /starting a local Kafka broker/, 'nothing was started');
});
