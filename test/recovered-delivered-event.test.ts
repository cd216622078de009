// A runner marks a delivery "announced" in the shared ledger up to a second after it published
// the `delivered` event (with the offset commit). A rebalance in that second (a runner of a rolling
// restart joining again) hands the partition to a runner that reads the record again, finds the
// delivery recorded but not marked, and publishes `delivered` again (detail.recovered) — in case
// the first never went out. Seen under 20 msg/s while runners were restarted one by one: the
// receiver got the message once, but its timeline (GET /v1/messages/{id}, the console) and the
// audit trail held two `delivered` steps. A connector's one successful outcome now has an id of
// its own (message and connector), so the recovered copy is recognised wherever events are kept.
import t from 'tap';
import { startRunner } from '../services/runner/runner-service.js';
import { testKafka } from './helpers/test-kafka.js';
import { readTopic } from './helpers/topic-reader.js';
import { topicsFor } from '../services/platform/topics.js';
import { startTestBus, eventually } from './helpers/test-bus.js';

t.test('a delivery announced again after a rebalance is one step of the timeline', async (t) => {
  const bus = await startTestBus(t, { name: 'recovered-delivered' });
  const sender = bus.client('so-tttt-qlvb');
  const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Thông báo', body: 'Nội dung' } });
  t.equal(r.status, 202);
  const id = r.body.id as string;
  await eventually(async () => (await sender.status(id)).body.status === 'delivered', 30_000);
  await bus.runner!.stop();

  // What the rebalance leaves: the delivered event is out, its mark is not, and the group's
  // committed offset is before the record.
  await bus.db.query('UPDATE runner_delivered SET announced = false WHERE message_id = $1', [id]);
  const topics = topicsFor(bus.config.topicPrefix);
  const admin = testKafka('recovered-delivered-test').admin();
  await admin.connect();
  for (const topic of [topics.message('notice'), topics.retry('relay')]) {
    await admin.resetOffsets({ groupId: `${bus.config.topicPrefix}lgsp-connector-relay`, topic, earliest: true });
  }
  await admin.disconnect();

  const next = await startRunner(bus.config, { connectors: ['relay'] });
  t.teardown(() => next.stop());
  const deliveredEvents = async () =>
    (await readTopic(bus.config.kafkaBrokers, topics.events, 0, 2000))
      .map((rec) => JSON.parse(rec.value) as { id: string; event: string; messageId?: string; detail?: { recovered?: boolean } })
      .filter((ev) => ev.messageId === id && ev.event === 'delivered');
  const onTopic = await eventually(async () => {
    const evs = await deliveredEvents();
    return evs.some((ev) => ev.detail?.recovered === true) ? evs : null;
  }, 30_000);
  t.equal(onTopic.length, 2, 'the new runner announced the delivery again');
  t.equal(onTopic[1].id, onTopic[0].id, 'both announcements carry the id of the one delivery');

  // The ledger applies what the runner published; give it its usual second.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const view = await sender.status(id);
  t.equal(view.body.status, 'delivered');
  t.equal((view.body.events as Array<{ event: string }>).filter((e) => e.event === 'delivered').length, 1, 'the timeline has one delivered step');
  t.equal((bus.simulator.received.get('so-tp-qlvb') ?? []).filter((m) => m.id === id).length, 1, 'the receiver got it once');
});
