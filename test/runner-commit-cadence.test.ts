// The runner commits its consumer offsets once per LGSP_OFFSET_COMMIT_INTERVAL_MS, not after
// every published batch (each commit is a broker write). What that trades: a runner that dies
// between commits leaves delivered records uncommitted, and its successor reads them again.
// This proves the delivery ledger makes that re-read harmless: the runner is a real process,
// killed with SIGKILL (no final commit), and the runner taking over delivers nothing twice —
// and takes over once the dead runner's session (LGSP_CONSUMER_SESSION_TIMEOUT_MS) has expired.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startRunner } from '../services/runner/runner-service.js';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { topicsFor } from '../services/platform/topics.js';
import { testKafka } from './helpers/test-kafka.js';
import { startTestBus, eventually, serviceProcessEnv } from './helpers/test-bus.js';

t.test('a runner killed between offset commits: its successor reads again and delivers nothing twice', async (t) => {
  const bus = await startTestBus(t, { name: 'commit-cadence', runner: false });
  const groupId = `${bus.config.topicPrefix}lgsp-connector-relay`;
  const messageTopic = topicsFor(bus.config.topicPrefix).message('notice');

  let child: ChildProcess | null = null;
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const started = new Promise<void>((resolve, reject) => {
    child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'services', 'runner', 'main.js')], {
      env: {
        ...serviceProcessEnv(bus.config),
        LGSP_CONNECTORS: 'relay',
        // Long enough that nothing after the first commit is committed before the kill.
        LGSP_OFFSET_COMMIT_INTERVAL_MS: '60000',
        // The shortest session the broker accepts: its partitions go to the successor that soon
        // after the kill instead of the default 30 s (LGSP_CONSUMER_SESSION_TIMEOUT_MS applies).
        LGSP_CONSUMER_SESSION_TIMEOUT_MS: '6000',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      if (/listening on http/.test(output)) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code, signal) => reject(new Error(`runner exited (${code ?? signal}) before listening:\n${output.slice(-2000)}`)));
  });
  await started;

  const sender = bus.client('so-tttt-qlvb');
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `Thông báo ${i}`, body: 'Nội dung' } });
    t.equal(r.status, 202);
    ids.push(r.body.id);
    // One at a time: the first commit (at once) covers the first messages only.
    await eventually(() => (bus.simulator.received.get('so-tp-qlvb') ?? []).some((m) => m.id === r.body.id), 30_000);
  }
  const received = () => (bus.simulator.received.get('so-tp-qlvb') ?? []).filter((m) => ids.includes(m.id));
  t.equal(received().length, 10, 'each message delivered once');
  // Every outcome published (the ledger shows it) before the kill.
  for (const id of ids) await eventually(async () => (await sender.status(id)).body.status === 'delivered', 20_000);

  const admin = testKafka('commit-cadence-test').admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const committed = async () => {
    const [topic] = await admin.fetchOffsets({ groupId, topics: [messageTopic] });
    return topic.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  };
  const before = await committed();
  t.ok(before < 10, `offsets not committed after every batch (${before} of 10 committed before the kill)`);

  child!.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  const killedAt = Date.now();

  // The successor joins once the dead member's session has expired and reads from the committed offset.
  const successor = await startRunner(bus.config, { connectors: ['relay'] });
  t.teardown(() => successor.stop());
  const worker = () => successor.slots.get('relay')!.worker!;
  await eventually(() => worker().stats.duplicates >= 10 - before, 90_000, 250);
  const takeoverSeconds = (Date.now() - killedAt) / 1000;
  t.ok(takeoverSeconds < 20, `the successor read the dead runner's partitions ${takeoverSeconds.toFixed(1)} s after the kill (its session: 6 s; the default 30 s would be over 30)`);
  await new Promise((r) => setTimeout(r, 500));
  // Read again and recognised by the ledger; those announced after the last commit are
  // announced again (a repeated `delivered` event), none is handed to the destination again.
  t.equal(worker().stats.duplicates, 10 - before, 'every uncommitted record read again');
  t.equal(received().length, 10, 'the receiver still has each message once');
  // The successor commits what it read (it runs with the default interval).
  t.equal(await eventually(async () => ((await committed()) === 10 ? 10 : null), 10_000), 10, 'the re-read records are committed');
});
