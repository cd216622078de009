// A rolling restart behind a load balancer: SIGTERM to a gateway, runner or audit service makes
// its /readyz answer 503 at once while it still serves (the load balancer drains it), each answer
// meanwhile closes its connection (no idle keep-alive connection is left to be reset when it
// stops), a message accepted during the drain is delivered, and the process then ends by itself
// with exit code 0. Before, SIGTERM closed the listener at once: /readyz went from 200 straight to
// connection refused, and a request sent on a pooled connection just then was reset.
// Services run as their own processes (a real SIGTERM) on npm test's broker and a PostgreSQL
// server of the test's own.
import t from 'tap';
import { request, Agent } from 'node:http';
import { sleep } from './chaos/chaos-stack.js';
import { startProcessStack } from './helpers/process-stack.js';
import { BusClient } from '../services/platform/bus-client.js';

t.setTimeout(170_000);

const DRAIN_MS = 3000;

interface Answer {
  status: number;
  connection: string | undefined;
  body: Record<string, unknown>;
}

/** One request on a keep-alive agent, as a pooling client or load balancer sends it. */
function call(agent: Agent, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(opts.body);
  });
}

t.test('SIGTERM: not ready first, still serving during the drain, then exit code 0', async (t) => {
  const { stack, receiver } = await startProcessStack(t, { name: 'drain', audits: 1, env: { LGSP_SHUTDOWN_DRAIN_MS: String(DRAIN_MS) } });
  const sender = new BusClient(stack.issuer, stack.clients.get('so-tttt-qlvb')!, stack.issuer);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${await sender.accessToken()}` };
  const notice = (n: number) => JSON.stringify({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: `DRAIN-${n}`, payload: { subject: `Thông báo ${n}`, body: 'dừng có kiểm soát' } });

  for (const name of ['gateway-1', 'runner-1', 'audit-1']) {
    const url = stack.url(name);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    t.teardown(() => agent.destroy());
    t.equal((await call(agent, `${url}/readyz`)).status, 200, `${name}: ready before the stop`);
    const child = stack.service(name).child;
    const sentAt = Date.now();
    const exited = new Promise<{ code: number | null; ms: number }>((resolve) => child.once('exit', (code) => resolve({ code, ms: Date.now() - sentAt })));
    // hold(): SIGTERM, and the supervisor does not start it again.
    const held = stack.hold(name);

    // /readyz says 503 within a moment, naming the stop, while the service still answers.
    let readyz: Answer | null = null;
    while (Date.now() - sentAt < 2000) {
      readyz = await call(agent, `${url}/readyz`).catch(() => null);
      if (readyz?.status === 503) break;
      await sleep(50);
    }
    t.equal(readyz?.status, 503, `${name}: /readyz 503 within 2 s of SIGTERM (${Date.now() - sentAt} ms)`);
    t.equal((readyz?.body.checks as Record<string, { ok: boolean }> | undefined)?.shutdown?.ok, false, `${name}: the failing check is the shutdown`);
    t.equal(readyz?.connection, 'close', `${name}: answers during the drain close their connection`);
    t.ok(Date.now() - sentAt < DRAIN_MS, `${name}: still inside the drain`);
    t.equal((await call(agent, `${url}/healthz`)).status, 200, `${name}: still serving during the drain`);

    if (name === 'gateway-1') {
      const accepted = await call(agent, `${url}/v1/messages`, { method: 'POST', headers, body: notice(1) });
      t.equal(accepted.status, 202, 'gateway: a message sent during the drain is accepted');
      t.equal(accepted.connection, 'close', 'gateway: its answer closes the connection');
      const id = accepted.body.id as string;
      const deadline = Date.now() + 60_000;
      while (!receiver.receipts.has(id) && Date.now() < deadline) await sleep(200);
      t.ok(receiver.receipts.has(id), 'gateway: the message accepted during the drain is delivered');
    }

    const exit = await exited;
    await held;
    t.equal(exit.code, 0, `${name}: exit code 0`);
    t.ok(exit.ms >= DRAIN_MS - 200 && exit.ms < DRAIN_MS + 10_000, `${name}: ended after the drain and within 10 s of it (${exit.ms} ms)`);
    if (name === 'gateway-1') {
      // Back for the runner's and audit's turns (their stops must not leave the bus without a gateway).
      await stack.release(name);
      await stack.waitHealthy(name, '/readyz');
    }
  }
});
