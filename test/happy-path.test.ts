import t from 'tap';
import { startTestBus, eventually } from './helpers/test-bus.js';

t.test('a message travels gateway → Kafka → relay → agency system, signed and tracked', async (t) => {
  const bus = await startTestBus(t, { name: 'happy' });
  const sender = bus.client('so-tttt-qlvb');
  const submitted = await sender.send({
    type: 'notice.send',
    to: { member: '000.00.15.H49', service: 'notice' },
    correlationId: 'CV-123',
    payload: { subject: 'Thông báo lịch họp', body: 'Kính gửi Sở Tư pháp: họp lúc 8 giờ.' },
  });
  t.equal(submitted.status, 202, 'accepted');
  t.match(submitted.body, { id: String, status: 'accepted' });
  t.equal(submitted.headers.get('location'), `/v1/messages/${submitted.body.id}`);

  const received = await eventually(() => bus.simulator.received.get('so-tp-qlvb')?.find((m) => m.id === submitted.body.id));
  t.equal(received.envelope.data && (received.envelope.data as { subject: string }).subject, 'Thông báo lịch họp', 'payload intact');
  t.same(received.from, { member: '000.00.12.H49', system: 'so-tttt-qlvb' });
  t.equal(received.correlationId, 'CV-123');

  const view = await eventually(async () => {
    const r = await sender.status(submitted.body.id);
    return r.body.status === 'delivered' ? r.body : null;
  });
  t.same(view.events.map((e: { event: string }) => e.event), ['accepted', 'delivered'], 'timeline');

  // UUIDs are case-insensitive (RFC 9562): a system that stores them in a GUID column finds it too.
  const upper = await sender.status(submitted.body.id.toUpperCase());
  t.equal(upper.status, 200, 'the id in upper case finds the message');
  t.equal(upper.body.id, submitted.body.id, 'named as the bus issued it');
  const receiverView = await bus.client('so-tp-qlvb').status(submitted.body.id);
  t.equal(receiverView.status, 200, 'receiver may read it');
  const stranger = await bus.client('so-khdt-qlvb').status(submitted.body.id);
  t.equal(stranger.status, 404, 'another member may not');
  const unknown = await bus.client('so-khdt-qlvb').status('01900000-0000-7000-8000-000000000000');
  t.same([stranger.body.code, stranger.body.detail.replace(submitted.body.id, 'ID')], [unknown.body.code, unknown.body.detail.replace('01900000-0000-7000-8000-000000000000', 'ID')], 'answered exactly as an unknown id: no existence oracle');
});
