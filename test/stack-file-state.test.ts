// .lgsp/dev/stack.json named the previous run's URLs for the minute or two a start takes, and
// after a stop: `jq -r .console` sent an operator to a port another process may have by now. It
// now says the stack's state, carries addresses only while the stack runs, and keeps the
// console's port for the next start (bookmarks).
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { markStackStarting, markStackStopped, previousConsolePort, stackFilePath, writeRunningStack } from '../services/stack/stack-file.js';

const read = (dir: string) => JSON.parse(readFileSync(stackFilePath(dir), 'utf8')) as Record<string, unknown>;

t.test('starting and stopped carry no address; running all of them; the console port is kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-stack-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(previousConsolePort(dir), undefined, 'first start: no port to keep');
  // A stack.json of the previous run, as earlier versions wrote it (no state).
  writeFileSync(stackFilePath(dir), JSON.stringify({ console: 'http://127.0.0.1:41234', gateway: 'http://127.0.0.1:8080' }));
  markStackStarting(dir, previousConsolePort(dir));
  t.same(Object.keys(read(dir)).sort(), ['consolePort', 'pid', 'since', 'state']);
  t.equal(read(dir).state, 'starting');
  t.equal(read(dir).gateway, undefined, 'no stale gateway URL while starting');
  t.equal(previousConsolePort(dir), 41234, 'the console port survives the start');
  writeRunningStack(dir, { console: 'http://127.0.0.1:41234', gateway: 'http://127.0.0.1:8080' });
  t.match(read(dir), { state: 'running', pid: process.pid, console: 'http://127.0.0.1:41234', gateway: 'http://127.0.0.1:8080' });
  markStackStopped(dir);
  t.equal(read(dir).state, 'stopped');
  t.equal(read(dir).console, undefined, 'no URL once stopped');
  t.equal(previousConsolePort(dir), 41234, 'the next start can offer the same address');
});

t.test("a second start on the same data dir leaves the running stack's file alone", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-stack-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  t.teardown(() => other.kill());
  const running = { state: 'running', pid: other.pid, since: new Date().toISOString(), console: 'http://127.0.0.1:41234' };
  writeFileSync(stackFilePath(dir), JSON.stringify(running));
  markStackStarting(dir, previousConsolePort(dir));
  t.same(read(dir), running, 'not marked starting');
  markStackStopped(dir);
  t.same(read(dir), running, 'nor stopped by the start that failed');
  other.kill();
  await new Promise((r) => other.once('exit', r));
  markStackStarting(dir, previousConsolePort(dir));
  t.equal(read(dir).state, 'starting', 'once its process is gone, a new start takes the file');
});
