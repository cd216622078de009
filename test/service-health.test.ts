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
  t.match(hung.json(), { status: 'not_ready', checks: { kafka: { ok: true }, database: { ok: false, detail: `no answer within ${READINESS_TIMEOUT_MS} ms` } } });
  t.ok(waited >= READINESS_TIMEOUT_MS - 50 && waited < READINESS_TIMEOUT_MS + 2000, `answered after ${waited} ms`);
  healthy = true;
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready again once it answers');
});
