// A delivery is in the delivery ledger one statement after it happens, whatever Kafka does.
// The runner used to write a batch's deliveries to the ledger in the same loop that publishes
// their outcome events: while a produce hung (a broker not answering), every delivery finished
// meanwhile stayed unknown to the ledger, and a runner killed then had all of them delivered
// again by its successor (1,659 duplicates in a chaos run). Here the broker is frozen (SIGSTOP:
// connections stay open, requests go unanswered) while deliveries are still finishing at a slow
// receiver: each one must reach the ledger at once, and once the broker thaws every message is
// delivered exactly once.
import t from 'tap';
import { startLocalKafka } from '../services/local-kafka/local-kafka.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { freeze } from './helpers/frozen-process.js';

t.test('deliveries reach the ledger while the outcome produce hangs', async (t) => {
  const kafka = await startLocalKafka();
  t.teardown(() => kafka.stop());
  const bus = await startTestBus(t, { name: 'ledger-hang', kafka: kafka.clientSettings() });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  const relay = bus.runner!.slots.get('relay')!.worker!;
  const notice = (subject: string, member: string) => ({ type: 'notice.send', to: { member, service: 'notice' }, payload: { subject, body: 'x' } });
  const inLedger = async (ids: string[]) => {
    const { rows } = await bus.db.query<{ message_id: string }>(
      "SELECT message_id FROM runner_delivered WHERE connector = 'relay' AND message_id = ANY($1::text[])",
      [ids],
    );
    return new Set(rows.map((r) => r.message_id));
  };

  // First (so-tp-qlvb answers after 1.5 s): its outcome produce is the one that will hang.
  // Later (so-khdt-qlvb answers after 4 s): they finish while that produce hangs.
  bus.simulator.modes.set('so-tp-qlvb', { mode: 'slow', delayMs: 1500 });
  bus.simulator.modes.set('so-khdt-qlvb', { mode: 'slow', delayMs: 4000 });
  relay.pause();
  const first = (await sender.send(notice('đầu tiên', '000.00.15.H49'))).body.id as string;
  const later: string[] = [];
  for (let i = 0; i < 5; i++) later.push((await sender.send(notice(`sau ${i}`, '000.00.24.H49'))).body.id as string);
  relay.resume();
  // Every delivery is under way at the receivers (fetched before the freeze).
  t.ok(await eventually(() => (bus.simulator.attempts.get('so-khdt-qlvb') ?? 0) >= 5 && (bus.simulator.attempts.get('so-tp-qlvb') ?? 0) >= 1, 30_000, 20), 'all six deliveries started');

  const thaw = freeze([kafka.pids[0]]);
  t.teardown(thaw);

  t.ok(await eventually(() => (bus.simulator.received.get('so-khdt-qlvb') ?? []).length >= 5, 15_000, 20), 'the later deliveries finished while the broker was frozen');
  const receivedAt = Date.now();
  const marked = await eventually(async () => ((await inLedger([first, ...later])).size === 6 ? Date.now() : null), 10_000, 50);
  t.ok(marked, 'all six deliveries are in the ledger while the broker is still frozen');
  t.ok(marked && marked - receivedAt < 2000, `the later ones within 2 s of their delivery (${marked ? marked - receivedAt : '-'} ms), not after the hung produce`);

  thaw();
  for (const id of [first, ...later]) {
    const view = await eventually(async () => {
      const r = await sender.status(id);
      return r.body?.status === 'delivered' ? r.body : null;
    }, 60_000, 250);
    t.ok(view, `${id} reported delivered after the thaw`);
  }
  // The simulator keeps one entry per message id; its attempt counters count every request.
  t.equal(bus.simulator.attempts.get('so-tp-qlvb'), 1, 'the first message was delivered once');
  t.equal(bus.simulator.attempts.get('so-khdt-qlvb'), 5, 'each later message was delivered once');
  await bus.stop();
  await kafka.stop();
});
