// A stopping runner waits for the deliveries it has sent as long as a delivery may take
// (LGSP_DELIVERY_TIMEOUT_MS), not a fixed 5 s: a destination that takes 7 s to answer, within the
// 10 s delivery timeout, was cut off at 5 s by the stop, had taken the message all the same, and
// got it again from the runner that read the partition next. Services run as their own processes
// (a real SIGTERM) on npm test's broker and a PostgreSQL server of the test's own.
import t from 'tap';
import { sleep } from './chaos/chaos-stack.js';
import { startProcessStack } from './helpers/process-stack.js';
import { BusClient } from '../services/platform/bus-client.js';

t.setTimeout(170_000);

const DESTINATION_MS = 7000;

t.test('SIGTERM to a runner whose destination answers in 7 s (delivery timeout 10 s): each delivered once', async (t) => {
  const { stack, receiver } = await startProcessStack(t, {
    name: 'rslow',
    audits: 0,
    env: { LGSP_SHUTDOWN_DRAIN_MS: '0', LGSP_DELIVERY_TIMEOUT_MS: '10000' },
    receiverDelayMs: DESTINATION_MS,
  });
  const sender = new BusClient(stack.issuer, stack.clients.get('so-tttt-qlvb')!, stack.issuer);
  const ids: string[] = [];
  for (let n = 0; n < 3; n++) {
    const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: `RSLOW-${n}`, payload: { subject: `Thông báo ${n}`, body: 'đích trả lời chậm' } });
    t.equal(r.status, 202, `message ${n} accepted`);
    ids.push((r.body as { id: string }).id);
  }
  const deadline = Date.now() + 30_000;
  while (receiver.inFlight < ids.length && Date.now() < deadline) await sleep(20);
  t.ok(receiver.inFlight > 0, `deliveries in flight at the stop (${receiver.inFlight})`);
  const child = stack.service('runner-1').child;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stopAt = Date.now();
  await stack.hold('runner-1');
  t.equal(await exited, 0, 'the runner ended with exit code 0');
  t.ok(Date.now() - stopAt < 15_000, 'within the delivery timeout and its margin (not killed)');
  await stack.release('runner-1');
  const until = Date.now() + 60_000;
  while (ids.some((id) => !receiver.receipts.has(id)) && Date.now() < until) await sleep(200);
  t.same(ids.filter((id) => !receiver.receipts.has(id)), [], 'every message delivered');
  // Time for a redelivery of what the stop had in flight to reach the slow destination.
  await sleep(DESTINATION_MS + 3000);
  t.equal(receiver.duplicates, 0, 'none delivered twice');
});
