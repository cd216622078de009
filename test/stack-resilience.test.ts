// `npm start` stays up and keeps the bus across restarts: a crashed service is restarted with
// backoff (and says so), and the stack's broker keeps its data in the stack's own directory, so a
// stop and start finds every record and every group offset where it was.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, ensureTopics } from '../services/platform/kafka-transport.js';
import { superviseRestarts } from '../services/stack/supervisor.js';
import { startLocalKafka, type LocalKafka } from '../services/local-kafka/local-kafka.js';

t.test('a service killed with -9 is restarted, with the reason said', async (t) => {
  let stopping = false;
  const said: string[] = [];
  const start = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const entry = { name: 'runner', child: start() };
  superviseRestarts(entry, start, { stopping: () => stopping, say: (line) => said.push(line), firstDelayMs: 200 });
  t.teardown(() => {
    stopping = true;
    entry.child.kill('SIGKILL');
  });
  const first = entry.child.pid;
  entry.child.kill('SIGKILL');
  const deadline = Date.now() + 5000;
  while (entry.child.pid === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.not(entry.child.pid, first, 'a new process runs');
  t.equal(entry.child.exitCode, null, 'and it is alive');
  t.match(said[0], /\[runner\] exited unexpectedly \(SIGKILL\); restarting in 0\.2 s \(restart 1\)/);
  // The backoff doubles for a service that keeps crashing.
  const second = entry.child.pid;
  entry.child.kill('SIGKILL');
  while (entry.child.pid === second && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 50));
  t.match(said[1], /restarting in 0\.4 s \(restart 2\)/);
  // A stop of the stack is not a crash: nothing is restarted.
  stopping = true;
  const last = entry.child;
  last.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 800));
  t.equal(entry.child, last, 'no restart while the stack stops');
  t.equal(said.length, 2);
});

t.test('a service stopped with SIGTERM is said to have stopped, not to have crashed, and is started again', async (t) => {
  let stopping = false;
  const said: string[] = [];
  // Stops in order on SIGTERM, as the services do (service-main.ts): exit code 0.
  const start = () => spawn(process.execPath, ['-e', "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
  const entry = { name: 'gateway', child: start() };
  superviseRestarts(entry, start, { stopping: () => stopping, say: (line) => said.push(line), firstDelayMs: 200 });
  t.teardown(() => {
    stopping = true;
    entry.child.kill('SIGKILL');
  });
  // Until its handler is in place, a SIGTERM would kill it by the signal instead.
  await new Promise((r) => setTimeout(r, 500));
  const first = entry.child.pid;
  entry.child.kill('SIGTERM');
  const deadline = Date.now() + 5000;
  while (entry.child.pid === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.not(entry.child.pid, first, 'started again: the stack keeps every service running');
  t.same(said, ['[gateway] stopped (exited with code 0: an orderly stop, as after a SIGTERM to it; the stack keeps every service running); restarting in 0.2 s (restart 1)']);
  t.notMatch(said[0], /unexpectedly/);
});

t.test('the broker keeps records and offsets in its data directory across a stop and start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-stack-kafka-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // As admin: the secured broker's credentials are kept with its data and work after the restart.
  const client = (broker: LocalKafka) => createKafka('stack-test', broker.clientSettings(), 'admin');

  let kafka = await startLocalKafka({ dataDir });
  const admin = client(kafka).admin();
  await admin.connect();
  await ensureTopics(admin, ['pending'], 1, 1);
  await admin.disconnect();
  const producer = client(kafka).producer();
  await producer.connect();
  await producer.send({ topic: 'pending', acks: -1, messages: [{ value: 'delivered before the stop' }, { value: 'still pending at the stop' }] });
  await producer.disconnect();
  // A consumer group that handled the first record only.
  const before = client(kafka).consumer({ groupId: 'relay' });
  await before.connect();
  await before.subscribe({ topic: 'pending', fromBeginning: true });
  await new Promise<void>((resolve) => {
    void before.run({ autoCommit: false, eachMessage: async ({ message, partition }) => {
      if (message.offset === '0') {
        await before.commitOffsets([{ topic: 'pending', partition, offset: '1' }]);
        resolve();
      }
    } });
  });
  await before.disconnect();
  await kafka.stop();

  kafka = await startLocalKafka({ dataDir });
  t.teardown(() => kafka.stop());
  const after = client(kafka).consumer({ groupId: 'relay' });
  await after.connect();
  await after.subscribe({ topic: 'pending', fromBeginning: true });
  const got = await new Promise<string>((resolve) => {
    void after.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) });
  });
  await after.disconnect();
  t.equal(got, 'still pending at the stop', 'the group resumes where it stopped: the pending record is still there');
});
