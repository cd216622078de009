// A runner stopped with SIGTERM (a rolling restart) lets the deliveries it has already sent
// finish and records them before it leaves: the runner that then reads its partitions does not
// send them again. Before, the stop aborted them mid-request — the destination had taken them,
// the runner had not recorded them — and each was delivered a second time after the restart.
// Services run as their own processes (a real SIGTERM) on npm test's broker and a PostgreSQL
// server of the test's own.
import t from 'tap';
import { sleep } from './chaos/chaos-stack.js';
import { startProcessStack } from './helpers/process-stack.js';
import { BusClient } from '../services/platform/bus-client.js';

t.setTimeout(170_000);

t.test('SIGTERM to a runner with deliveries in flight: each delivered once', async (t) => {
  // Each delivery takes the destination 2 s: the stop lands while they are in flight.
  const { stack, receiver } = await startProcessStack(t, { name: 'rstop', audits: 0, env: { LGSP_SHUTDOWN_DRAIN_MS: '0' }, receiverDelayMs: 2000 });
  const sender = new BusClient(stack.issuer, stack.clients.get('so-tttt-qlvb')!, stack.issuer);
  const ids: string[] = [];
  for (let n = 0; n < 5; n++) {
    const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: `RSTOP-${n}`, payload: { subject: `Thông báo ${n}`, body: 'dừng runner có kiểm soát' } });
    t.equal(r.status, 202, `message ${n} accepted`);
    ids.push((r.body as { id: string }).id);
  }
  const deadline = Date.now() + 30_000;
  while (receiver.inFlight < 5 && Date.now() < deadline) await sleep(20);
  t.ok(receiver.inFlight > 0, `deliveries in flight at the stop (${receiver.inFlight})`);
  const child = stack.service('runner-1').child;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await stack.hold('runner-1');
  t.equal(await exited, 0, 'the runner ended with exit code 0');
  await stack.release('runner-1');
  const until = Date.now() + 60_000;
  while (ids.some((id) => !receiver.receipts.has(id)) && Date.now() < until) await sleep(200);
  t.same(ids.filter((id) => !receiver.receipts.has(id)), [], 'every message delivered');
  // Time for a redelivery of what the stop had in flight (the restarted runner reads its
  // uncommitted records at once).
  await sleep(5000);
  t.equal(receiver.duplicates, 0, 'none delivered twice');
});
