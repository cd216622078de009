// The 'accepted' row a gateway writes before its 202 is committed without waiting for the WAL
// flush (message-store.ts recordAccepted): a PostgreSQL crash may lose the rows of the last
// fraction of a second. The message is on Kafka regardless; this proves what restores its status:
// the row is removed as such a crash would, and the first outcome event writes it again.
import t from 'tap';
import { startRunner } from '../services/runner/runner-service.js';
import { startTestBus, eventually } from './helpers/test-bus.js';

t.test('an accepted row lost with an asynchronous commit comes back from the first outcome event', async (t) => {
  const bus = await startTestBus(t, { name: 'accepted-rows', runner: false });
  const sender = bus.client('so-tttt-qlvb');
  const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Thông báo', body: 'Nội dung' } });
  t.equal(r.status, 202);
  const id = r.body.id as string;
  const seen = await sender.status(id);
  t.equal(seen.status, 200, 'read your write: visible right after the 202');
  t.equal(seen.body.status, 'accepted');

  // What a server crash before the WAL reached the disk leaves: no row at all.
  await bus.db.query('DELETE FROM console_message_events WHERE message_id = $1', [id]);
  await bus.db.query('DELETE FROM console_messages WHERE id = $1', [id]);
  t.equal((await sender.status(id)).status, 404, 'the row is gone');

  const runner = await startRunner(bus.config, { connectors: ['relay'] });
  t.teardown(() => runner.stop());
  const view = await eventually(async () => {
    const s = await sender.status(id);
    return s.status === 200 && s.body.status === 'delivered' ? s.body : null;
  }, 30_000);
  t.match(view, { id, type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, status: 'delivered' }, 'the message row is written again with its routing fields');
  t.ok((view.events as Array<{ event: string }>).some((e) => e.event === 'delivered'), 'with its outcome in the timeline');
  t.same((view.events as Array<{ event: string }>).filter((e) => e.event === 'accepted').length, 1, 'and its accepted step again, once');
  t.equal((bus.simulator.received.get('so-tp-qlvb') ?? []).filter((m) => m.id === id).length, 1, 'delivered once');
});
