// A connector that deposits a message into a pull inbox (outcome 'deposited') has the runner
// record it in the delivered ledger and then publish `deposited`; the system's acknowledgement
// later gives `delivered` (mode: pull). A runner that died between the two left the row
// unannounced, and the next runner announced it as `delivered`: the message read delivered
// (final) while still waiting in the inbox, and the pull acknowledgement was lost among it.
// The ledger now records that the delivery was a deposit, and the recovered event says so.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRunner } from '../services/runner/runner-service.js';
import { testKafka } from './helpers/test-kafka.js';
import { readTopic } from './helpers/topic-reader.js';
import { topicsFor } from '../services/platform/topics.js';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

const PULL_SYSTEM = 'xa-hoaphuoc-qlvb';
const PULL_MEMBER = 'H49.242.10';

t.test('a deposit announced again after a runner crash is announced as deposited', async (t) => {
  const bus = await startEdocBus(t, { name: 'recovered-deposit' });
  // The pull system does not collect: the message stays in its inbox, deposited.
  bus.qlvb.down.add(PULL_SYSTEM);
  const office = bus.client('vp-ubnd-qlvb');
  const r = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml', authorization: `Bearer ${await office.accessToken()}` },
    body: new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'document-new.xml'))),
  });
  const body = await r.json();
  t.equal(r.status, 202, JSON.stringify(body));
  const id = body.recipients.find((x: { member: string }) => x.member === PULL_MEMBER).id as string;
  const topics = topicsFor(bus.config.topicPrefix);
  const handedOver = async () =>
    (await readTopic(bus.config.kafkaBrokers, topics.events, 0, 2000))
      .map((rec) => JSON.parse(rec.value) as { id: string; event: string; messageId?: string; detail?: { recovered?: boolean; mode?: string } })
      .filter((ev) => ev.messageId === id && (ev.event === 'delivered' || ev.event === 'deposited'));
  await eventually(async () => ((await handedOver()).some((ev) => ev.event === 'deposited') ? true : null), 60_000);
  await bus.runner.stop();

  // What a runner killed between its ledger write and its publish leaves: the row unannounced and
  // the group's committed offset before the record.
  const marked = await bus.db.query('UPDATE runner_delivered SET announced = false WHERE message_id = $1', [id]);
  t.equal(marked.rowCount, 1, 'the deposit is in the ledger');
  const admin = testKafka('recovered-deposit-test').admin();
  await admin.connect();
  for (const topic of [topics.message('document-exchange'), topics.retry('document-management')]) {
    await admin.resetOffsets({ groupId: `${bus.config.topicPrefix}lgsp-connector-document-management`, topic, earliest: true });
  }
  await admin.disconnect();

  const next = await startRunner(bus.config, { connectors: ['document-management'] });
  t.teardown(() => next.stop());
  const events = await eventually(async () => {
    const evs = await handedOver();
    return evs.some((ev) => ev.detail?.recovered === true) ? evs : null;
  }, 60_000);
  const recovered = events.filter((ev) => ev.detail?.recovered === true);
  t.same(recovered.map((ev) => ev.event), ['deposited'], 'the recovered announcement says deposited, as the first one did');
  t.same(events.filter((ev) => ev.event === 'delivered'), [], 'nothing says delivered before the system acknowledged');
  t.equal(recovered[0].id, events[0].id, 'both announcements carry the id of the one hand-over');

  // The ledger applies what the runner published; give it its usual second.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  t.not((await office.status(id)).body.status, 'delivered', 'the message is not delivered while it waits in the inbox');
});
