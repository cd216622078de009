// /readyz answers within seconds even when a dependency hangs (a stopped PostgreSQL server keeps
// its sockets open, so a query neither fails nor returns): the hung check is not ready.
import t from 'tap';
import Fastify from 'fastify';
import { createMetricsRegistry, READINESS_TIMEOUT_MS, serviceHealth } from '../services/platform/service-health.js';

t.test('a readiness check that hangs counts as not ready after READINESS_TIMEOUT_MS', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  let healthy = false;
  await app.register(serviceHealth, {
    metrics: createMetricsRegistry('health-test'),
    checks: {
      kafka: async () => ({ ok: true, detail: '1 broker(s)' }),
      database: () => (healthy ? Promise.resolve({ ok: true }) : new Promise(() => undefined)),
    },
  });
  const started = Date.now();
  const hung = await app.inject({ method: 'GET', url: '/readyz' });
  const waited = Date.now() - started;
  t.equal(hung.statusCode, 503);
  // An error answer like every other (RFC 9457), the checks beside it.
  t.match(hung.headers['content-type'], /^application\/problem\+json/);
  t.match(hung.json(), {
    status: 503,
    code: 'NOT_READY',
    title: 'Not ready',
    type: 'https://lgsp.example.gov.vn/problems/not-ready',
    detail: `Not ready: database (no answer within ${READINESS_TIMEOUT_MS} ms)`,
    instance: '/readyz',
    checks: { kafka: { ok: true }, database: { ok: false, detail: `no answer within ${READINESS_TIMEOUT_MS} ms` } },
  });
  t.ok(waited >= READINESS_TIMEOUT_MS - 50 && waited < READINESS_TIMEOUT_MS + 2000, `answered after ${waited} ms`);
  healthy = true;
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200, 'ready again once it answers');
  t.same(ready.json(), { status: 'ready', checks: { kafka: { ok: true, detail: '1 broker(s)' }, database: { ok: true } } }, 'every check, as it answered');
  t.same((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
});
