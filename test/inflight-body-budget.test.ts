// The gateway's bound on request bodies in flight: past the budget a request is refused with
// 503 GATEWAY_BUSY (problem+json, Retry-After) before its body is read; bytes come back when a
// response is sent and when a client drops its connection mid-body.
import t from 'tap';
import Fastify from 'fastify';
import { Registry as MetricsRegistry } from 'prom-client';
import { problemHandler } from '../services/platform/problem-handler.js';
import { HOLDER_SHARE, gatewayServerTimeouts, inflightBodyBudget } from '../services/gateway/inflight-body-budget.js';
import { finishSlowPost, startSlowPost } from './helpers/slow-request.js';

const BUDGET = 10 * 1024;

async function startApp(idleMs?: number, logLines: string[] = []) {
  const metrics = new MetricsRegistry();
  const logger = { level: 'info', stream: { write: (line: string) => void logLines.push(line) } };
  const app = Fastify({ bodyLimit: 64 * 1024, logger, ...(idleMs ? gatewayServerTimeouts(idleMs) : {}) });
  await app.register(problemHandler, { maxBodyBytes: 64 * 1024 });
  // The gateway counts bytes against the authenticated client; here a header names it.
  await app.register(inflightBodyBudget, { maxBytes: BUDGET, metrics, holderOf: (req) => String(req.headers['x-client'] ?? req.ip) });
  app.post('/v1/messages', async (req) => ({ received: JSON.stringify(req.body).length }));
  app.get('/v1/members', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const held = async () => Number(/^lgsp_gateway_inflight_body_bytes (\S+)$/m.exec(await metrics.metrics())?.[1]);
  const refusals = async () => Number(/^lgsp_gateway_busy_refusals_total (\S+)$/m.exec(await metrics.metrics())?.[1]);
  return { app, port, held, refusals };
}

const post = (port: number, size: number, client = 'other') =>
  fetch(`http://127.0.0.1:${port}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client': client }, body: JSON.stringify({ body: 'x'.repeat(size - 12) }) });

const eventually = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
};

t.test('past the budget a request is refused before its body is read; bytes return when answered', async (t) => {
  const { app, port, held, refusals } = await startApp();
  t.teardown(() => app.close());
  const first = await startSlowPost(port, '/v1/messages', { length: 8 * 1024 });
  await eventually(async () => (await held()) === 8 * 1024);
  t.equal(await held(), 8 * 1024, 'the announced length is held while its body arrives');

  const refused = await post(port, 4 * 1024);
  t.equal(refused.status, 503);
  t.match(refused.headers.get('content-type'), /^application\/problem\+json/);
  t.equal(refused.headers.get('retry-after'), '1');
  const problem = (await refused.json()) as { code: string; status: number };
  t.equal(problem.code, 'GATEWAY_BUSY');
  t.equal(await refusals(), 1);

  t.equal((await post(port, 1024)).status, 200, 'a body that fits beside the one in flight passes');
  t.equal((await fetch(`http://127.0.0.1:${port}/v1/members`)).status, 200, 'a request without a body is never refused');

  const answer = await finishSlowPost(first, 8 * 1024);
  t.match(answer, /^HTTP\/1\.1 200/, 'the held request completes');
  first.destroy();
  await eventually(async () => (await held()) === 0);
  t.equal(await held(), 0, 'its bytes are returned');
  t.equal((await post(port, 4 * 1024)).status, 200, 'the refused size passes once there is room');
});

t.test('a client that drops its connection mid-body gives its bytes back', async (t) => {
  const logLines: string[] = [];
  const { app, port, held } = await startApp(undefined, logLines);
  t.teardown(() => app.close());
  const dropped = await startSlowPost(port, '/v1/messages', { length: 9 * 1024 });
  await eventually(async () => (await held()) === 9 * 1024);
  t.equal(await held(), 9 * 1024);
  dropped.destroy();
  await eventually(async () => (await held()) === 0);
  t.equal(await held(), 0);
  t.equal((await post(port, 9 * 1024)).status, 200);
  await eventually(async () => logLines.some((l) => l.includes('closed the connection')));
  t.ok(logLines.some((l) => l.includes('the client closed the connection before its request was read')), 'logged as what it was');
  t.notOk(logLines.some((l) => /PostgreSQL|unhandled error/.test(l)), 'not as a database outage or an error');
});

t.test('a chunked body reserves its route limit (up to the budget); a lone oversized body still passes', async (t) => {
  const { app, port, held } = await startApp();
  t.teardown(() => app.close());
  const chunked = await startSlowPost(port, '/v1/messages', { chunked: true });
  await eventually(async () => (await held()) === BUDGET);
  t.equal(await held(), BUDGET, 'no length announced: the route limit, capped at the budget');
  t.equal((await post(port, 1024)).status, 503, 'nothing else fits beside it');
  chunked.destroy();
  await eventually(async () => (await held()) === 0);
  t.equal((await post(port, 20 * 1024)).status, 200, 'alone, a body larger than the budget is for its route limit to judge');
});

t.test('one holder takes at most half of the budget beside its first body; others keep their room', async (t) => {
  const { app, port, held } = await startApp();
  t.teardown(() => app.close());
  t.equal(HOLDER_SHARE, 0.5);
  const hog = await startSlowPost(port, '/v1/messages', { length: 4 * 1024, headers: { 'x-client': 'hog' } });
  await eventually(async () => (await held()) === 4 * 1024);
  const second = await post(port, 2 * 1024, 'hog');
  t.equal(second.status, 503, 'the same holder past its share (4 KiB + 2 KiB > 5 KiB) is refused');
  t.match(await second.json(), { code: 'GATEWAY_BUSY', detail: /from this client/ });
  t.equal((await post(port, 1024, 'hog')).status, 200, 'within its share it still may');
  t.equal((await post(port, 5 * 1024, 'someone')).status, 200, 'another holder is not held back by it');
  hog.destroy();
  await eventually(async () => (await held()) === 0);
  t.equal((await post(port, 2 * 1024, 'hog')).status, 200, 'its share comes back with its bytes');
});

t.test('a body that stops arriving is cut by the idle timeout and its bytes come back', async (t) => {
  const { app, port, held } = await startApp(400);
  t.teardown(() => app.close());
  const stalled = await startSlowPost(port, '/v1/messages', { length: 9 * 1024 });
  let answer = '';
  stalled.on('data', (d) => (answer += d));
  const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
  await eventually(async () => (await held()) === 9 * 1024);
  t.equal(await held(), 9 * 1024);
  t.equal((await post(port, 4 * 1024)).status, 503, 'held while it lasts');
  const started = Date.now();
  await closed;
  t.ok(Date.now() - started < 3000, 'the gateway closed the silent connection');
  // Told why, not a bare reset: the client's HTTP stack reports a 408 it can act on (send again).
  t.match(answer, /^HTTP\/1\.1 408 /, 'the stalled request is answered 408 before the connection closes');
  t.match(answer, /content-type: application\/problem\+json/i);
  t.match(answer, /connection: close/i);
  const problem = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string; detail: string };
  t.equal(problem.code, 'REQUEST_TIMEOUT');
  t.match(problem.detail, /body stopped arriving/);
  await eventually(async () => (await held()) === 0);
  t.equal(await held(), 0, 'its bytes are returned');
  t.equal((await post(port, 9 * 1024)).status, 200);
});

