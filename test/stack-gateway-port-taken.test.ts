// `npm start` when something else already listens on the gateway's port (PORT, 8080 by default:
// another clone's stack, a Tomcat) refuses to start, naming the port and PORT. It started the
// broker, PostgreSQL and every service anyway; the gateway crash-looped on EADDRINUSE while the
// stack's readiness check was answered by the other server, so stack.json said `running` with
// that server's URL, the simulators asked it for tokens (401s in the log), and a vendor's client
// following stack.json talked to a bus that was not this one. The check comes before anything
// is written: a stack already running on the same data directory keeps its stack.json.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../services/local-processes/free-port.js';
import { runLgspStart } from './helpers/lgsp-start.js';

t.test('lgsp start refuses a gateway port another server holds, before starting anything', async (t) => {
  const port = await freePort();
  const other = createServer((_req, res) => res.end('another server'));
  await new Promise<void>((r) => other.listen(port, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => other.close(() => r())));
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-port-taken-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // As a stack already running on this data directory would have left it.
  const running = JSON.stringify({ state: 'running', gateway: `http://127.0.0.1:${port}` }) + '\n';
  writeFileSync(join(dataDir, 'stack.json'), running);

  const run = await runLgspStart({ ...process.env, PORT: String(port), LGSP_DATA_DIR: dataDir }, 30_000);
  const { code } = run;
  const out = run.stdout + run.stderr;
  t.equal(code, 1, `exits at once with an error (output: ${out.slice(0, 300)})`);
  t.match(out, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`), 'names the address');
  t.match(out, /PORT=/, 'and how to choose another');
  t.notMatch(out, /starting a local Kafka/, 'no broker was started');
  t.equal(readFileSync(join(dataDir, 'stack.json'), 'utf8'), running, 'stack.json is left as it was');
});
