// State the runner replicas share through PostgreSQL: the dedupe ledger (a partition read again
// by another runner, as after a rebalance, is not delivered twice), operators' pause and resume
// (made through one runner, applied by every other), and connectors' ctx.state.
import t, { type Test } from 'tap';
import { startRunner } from '../services/runner/runner-service.js';
import { testKafka } from './helpers/test-kafka.js';
import { topicsFor } from '../services/platform/topics.js';
import { openDatabase } from '../services/platform/database.js';
import { connectorStateStore } from '../services/runner/connector-state-store.js';
import { memoryConnectorState, type ConnectorState } from '@lgsp/sdk/state';
import { startTestBus, eventually } from './helpers/test-bus.js';

t.test('runner replicas share the ledger and the pause state', async (t) => {
  const bus = await startTestBus(t, { name: 'runner-shared' });
  const second = await startRunner(bus.config, { connectors: ['relay'] });
  let secondStopped = false;
  t.teardown(() => (secondStopped ? undefined : second.stop()));
  const operator = await bus.client('lgsp-operator').accessToken();
  const call = (url: string, method: string, path: string) => fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${operator}` } });
  const stateAt = async (url: string) => ((await (await call(url, 'GET', '/v1/connectors/relay/status')).json()) as { connector: { state: string } }).connector.state;

  await t.test('a pause through one runner reaches the other; a resume through the other reaches the first', async (t) => {
    t.equal((await call(bus.runner!.url, 'PUT', '/v1/connectors/relay/pause')).status, 202);
    t.equal(await stateAt(bus.runner!.url), 'PAUSED');
    t.equal(await eventually(async () => ((await stateAt(second.url)) === 'PAUSED' ? 'PAUSED' : null), 5000), 'PAUSED', 'the other replica paused within the poll interval');
    t.equal((await call(second.url, 'PUT', '/v1/connectors/relay/resume')).status, 202);
    t.equal(await eventually(async () => ((await stateAt(bus.runner!.url)) === 'RUNNING' ? 'RUNNING' : null), 5000), 'RUNNING');
  });

  await t.test('a partition read again by a new runner delivers nothing twice', async (t) => {
    const sender = bus.client('so-tttt-qlvb');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `Thông báo ${i}`, body: 'Nội dung' } });
      t.equal(r.status, 202);
      ids.push(r.body.id);
    }
    const received = () => (bus.simulator.received.get('so-tp-qlvb') ?? []).filter((m) => ids.includes(m.id));
    await eventually(() => received().length >= 10, 30_000);
    // Let the delivered events and offsets settle, then stop both runners and rewind the
    // group: a fresh runner reads every record again, as a replica does after a rebalance when
    // the previous owner died before committing.
    await eventually(async () => (await bus.client('so-tttt-qlvb').status(ids[9])).body.status === 'delivered', 20_000);
    await bus.runner!.stop();
    await second.stop();
    secondStopped = true;
    const admin = testKafka('runner-shared-test').admin();
    await admin.connect();
    const groupId = `${bus.config.topicPrefix}lgsp-connector-relay`;
    for (const topic of [topicsFor(bus.config.topicPrefix).message('notice'), topicsFor(bus.config.topicPrefix).retry('relay')]) {
      await admin.resetOffsets({ groupId, topic, earliest: true });
    }
    await admin.disconnect();
    const third = await startRunner(bus.config, { connectors: ['relay'] });
    t.teardown(() => third.stop());
    const worker = () => third.slots.get('relay')!.worker!;
    await eventually(() => worker().stats.duplicates >= 10, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    t.equal(worker().stats.delivered, 0, 'nothing delivered again');
    t.equal(received().length, 10, 'the receiver got each message once');
  });
});

t.test('ctx.state: PostgreSQL and the harness in-memory version behave alike', async (t) => {
  const bus = await startTestBus(t, { name: 'connector-state', runner: false });
  const db = await openDatabase(bus.config.databaseUrl);
  t.teardown(() => db.close());
  const check = async (t: Test, a: ConnectorState, b: ConnectorState, other: ConnectorState) => {
    t.equal(await a.get('k'), undefined);
    t.equal(await a.compareAndSet('k', undefined, { newest: '1', n: [1, 2] }), true, 'create when absent');
    t.equal(await b.compareAndSet('k', undefined, { newest: '0' }), false, 'a second create loses');
    t.same(await b.get('k'), { newest: '1', n: [1, 2] }, 'both replicas see one value');
    t.equal(await b.compareAndSet('k', { n: [1, 2], newest: '1' }, { newest: '2' }), true, 'expected compared as JSON, key order aside');
    t.equal(await a.compareAndSet('k', { newest: '1', n: [1, 2] }, { newest: '3' }), false, 'a stale expectation loses');
    t.same(await a.get('k'), { newest: '2' });
    t.equal(await other.get('k'), undefined, 'namespaced per connector');
    await a.set('k', 'plain');
    t.equal(await b.get('k'), 'plain');
    await b.delete('k');
    t.equal(await a.get('k'), undefined);
    await t.rejects(a.set('', 1), TypeError, 'an empty key is refused');
    await t.rejects(a.set('k', undefined), TypeError, 'undefined is not JSON');
    await t.rejects(a.set('k', 'x'.repeat(70 * 1024)), TypeError, 'a value over 64 KiB is refused');
  };
  await t.test('PostgreSQL', (t) => check(t, connectorStateStore(db, 'one-stop-shop'), connectorStateStore(db, 'one-stop-shop'), connectorStateStore(db, 'relay')));
  const shared = memoryConnectorState();
  await t.test('in memory', (t) => check(t, shared, shared, memoryConnectorState()));
  await t.test('concurrent compare-and-set: exactly one winner per round', async (t) => {
    const replicas = Array.from({ length: 5 }, () => connectorStateStore(db, 'race'));
    await replicas[0].set('counter', 0);
    // Each replica increments 10 times with read/compare-and-set retries: no increment lost.
    await Promise.all(replicas.map(async (state) => {
      for (let i = 0; i < 10; i++) {
        for (;;) {
          const n = (await state.get<number>('counter'))!;
          if (await state.compareAndSet('counter', n, n + 1)) break;
        }
      }
    }));
    t.equal(await replicas[0].get('counter'), 50);
  });
});
