// A pull inbox deposit whose recipient service left the registry while the message was in
// flight (removed, or moved to another member) has no system that could ever pull it. The ledger
// used to skip it with a warning and commit its offset: the 202'd message stayed `accepted` for
// ever, with no dead letter and nothing an operator could see. It must end as dead_lettered,
// with a reason naming the member and service.
import t from 'tap';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { editRegistryFile } from './helpers/registry-file.js';
import { readTopic } from './helpers/topic-reader.js';
import { startRunner } from '../services/runner/runner-service.js';

const OFFICE = '000.00.00.H49';

t.test('an inbox deposit for a service no longer in the registry is dead-lettered, not dropped', async (t) => {
  // No ledger yet: the deposit waits on lgsp.inbox while the registry changes.
  const bus = await startEdocBus(t, { name: 'ledgerunres', ledger: false });
  const documentId = `000.00.12.H49,2026/05/03,${Math.floor(Math.random() * 9000) + 1000}/QĐ-STTTT`;
  const sent = await bus.client('so-tttt-qlvb').send({
    type: 'edoc.send',
    to: { member: OFFICE },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: OFFICE }], documentId, subject: 'Gửi khi dịch vụ còn đăng ký' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = sent.body.id as string;
  const brokers = bus.config.kafkaBrokers;
  const inboxTopic = `${bus.config.topicPrefix}lgsp.inbox`;
  await eventually(async () => (await readTopic(brokers, inboxTopic, 1, 2_000)).some((r) => r.headers['lgsp-id'] === id), 60_000, 500);

  // The operator removes the office's system and its services while the item is in flight.
  editRegistryFile(bus.config.registryFile, (data) => {
    data.services = data.services.filter((s) => s.system !== 'vp-ubnd-qlvb');
    data.accessRights = data.accessRights.filter((ar) => data.services.some((s) => s.code === ar.service));
  });

  // A runner hosting the ledger (and no connector) starts on the new registry.
  const ledgerRunner = await startRunner(bus.config, { connectors: [] });
  t.teardown(() => ledgerRunner.stop());

  const row = await eventually(async () => {
    const { rows } = await bus.db.query<{ status: string; reason: string | null }>('SELECT status, last_reason AS reason FROM console_messages WHERE id = $1', [id]);
    return rows[0]?.status === 'dead_lettered' ? rows[0] : null;
  }, 60_000, 250);
  t.match(row.reason, /no longer in the registry: member 000\.00\.00\.H49 has no service/, 'the reason names the member and the missing service');
  const { rows: events } = await bus.db.query<{ event: string; actor: string }>('SELECT event, actor FROM console_message_events WHERE message_id = $1 AND event = $2', [id, 'dead_lettered']);
  t.same(events, [{ event: 'dead_lettered', actor: 'ledger' }], 'one dead_lettered step on the timeline, by the ledger');
  // The event is on the bus (signed by the runner), where the audit and every other ledger read it.
  const onBus = await readTopic(brokers, `${bus.config.topicPrefix}lgsp.events`, 1, 5_000);
  t.ok(onBus.some((r) => r.headers['lgsp-id'] === id && r.headers['lgsp-event'] === 'dead_lettered'), 'published on lgsp.events');
});
