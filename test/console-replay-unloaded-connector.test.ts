// A dead letter kept from a connector the bus no longer runs (removed, or renamed in its
// connector.json) cannot be replayed: its retry topic has no reader. The console answered 202
// "replayed", marked it replayed (a second try: 409 ALREADY_REPLAYED) and set the message back
// to accepted, where it stayed for good. It is refused instead, saying why, and stays replayable
// for when the connector is back, and counted in lgsp_dlq_depth. (Met on a stack restarted on a data directory whose Kafka held
// another connector's dead letters.)
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { consoleSession } from './helpers/console-session.js';
import { startTestBus, eventually } from './helpers/test-bus.js';

t.test('replaying a dead letter of a connector this bus does not run', async (t) => {
  const bus = await startTestBus(t, { name: 'console-replay-gone' });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());
  const call = await consoleSession(consoleSvc.url, bus.clients.get('lgsp-operator')!.clientSecret);

  bus.simulator.modes.set('so-khdt-qlvb', { mode: 'reject' });
  const sent = await bus.client('so-tttt-qlvb').send({ type: 'notice.send', to: { member: '000.00.24.H49', service: 'notice' }, payload: { subject: 'gone', body: 'x' } });
  t.equal(sent.status, 202);
  const id = sent.body.id as string;
  const dl = await eventually(async () => (await call('GET', `/v1/console/dead-letters?messageId=${id}`)).body.items[0]);
  // The dead letter (from the DLQ topic) and the message's status (from lgsp.events, through the
  // ledger) arrive by different paths: both are in before the replay is tried.
  await eventually(async () => (await call('GET', `/v1/console/messages/${id}`)).body.message?.status === 'dead_lettered');
  bus.simulator.modes.set('so-khdt-qlvb', { mode: 'ok' });
  // The same dead letter as if its connector had since been removed from the bus.
  await bus.db.query("UPDATE console_dead_letters SET connector = 'land-registry' WHERE id = $1", [dl.id]);

  const one = await call('POST', `/v1/console/dead-letters/${dl.id}/replay`);
  t.equal(one.status, 409, JSON.stringify(one.body));
  t.match(one.type, /^application\/problem\+json/);
  t.equal(one.body.code, 'NOT_REPLAYABLE');
  t.match(one.body.detail, /land-registry/, 'names the connector');
  t.match(one.body.detail, /relay/, 'and the connectors this bus runs');

  // A bulk replay's confirmation counts it among those that cannot be replayed, and the replay
  // leaves it out, as it does records that never verify: however many there are, they never
  // stand in front of the others.
  const dry = await call('POST', '/v1/console/dead-letters/replay', { dryRun: true });
  t.same(dry.body, { wouldReplay: 0, replayable: 0, notReplayable: 1 }, JSON.stringify(dry.body));
  const bulk = await call('POST', '/v1/console/dead-letters/replay', {});
  t.equal(bulk.status, 202);
  t.same(bulk.body, { matched: 0, replayed: [], skipped: [] }, 'a bulk replay leaves it out too');

  const after = (await call('GET', `/v1/console/dead-letters?messageId=${id}`)).body.items[0];
  t.equal(after.replayedAt, null, 'still waiting for a replay, for when the connector is back');
  const message = (await call('GET', `/v1/console/messages/${id}`)).body.message;
  t.equal(message.status, 'dead_lettered', 'the message is not set back to accepted');
  // Counted where alerts look (LgspDeadLettersWaiting reads lgsp_dlq_depth), not only on the page.
  const metrics = await (await fetch(`${consoleSvc.url}/metrics`)).text();
  t.match(metrics, /^lgsp_dlq_depth\{connector="land-registry"[^}]*\} 1$/m, 'the metric counts it under its connector');
});
