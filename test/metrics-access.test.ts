// /metrics is for the host's own scraper or a holder of the metrics token: the port agency
// systems call must not hand the bus's figures (connectors, routes, rates) to every caller.
import t from 'tap';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { problemHandler } from '../services/platform/problem-handler.js';
import { serviceHealth } from '../services/platform/service-health.js';
import { metricsTokenFromEnv } from '../services/platform/metrics-access.js';

async function appWith(metricsToken: string | undefined) {
  const app = Fastify();
  await app.register(problemHandler, { maxBodyBytes: 1024 });
  await app.register(serviceHealth, { metrics: new Registry(), checks: {}, metricsToken });
  await app.ready();
  return app;
}

const REMOTE = '10.20.30.40';

t.test('without a metrics token, only the host itself reads /metrics', async (t) => {
  const app = await appWith(undefined);
  t.teardown(() => app.close());
  for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
    const res = await app.inject({ url: '/metrics', remoteAddress: local });
    t.equal(res.statusCode, 200, `loopback ${local}`);
    t.match(res.body, /lgsp_http_requests_total/);
  }
  const remote = await app.inject({ url: '/metrics', remoteAddress: REMOTE });
  t.equal(remote.statusCode, 403, 'another host');
  t.match(remote.headers['content-type'], /^application\/problem\+json/);
  t.match(remote.json(), { code: 'METRICS_FORBIDDEN', detail: /LGSP_METRICS_TOKEN/ });
  t.notMatch(remote.body, /lgsp_http_requests_total/, 'no figures in the refusal');

  const proxied = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': REMOTE } });
  t.equal(proxied.statusCode, 403, 'a caller behind a reverse proxy on this host is not the host');
  const forwarded = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1', headers: { forwarded: `for=${REMOTE}` } });
  t.equal(forwarded.statusCode, 403, 'RFC 7239 Forwarded too');

  const guessed = await app.inject({ url: '/metrics', remoteAddress: REMOTE, headers: { authorization: 'Bearer anything' } });
  t.equal(guessed.statusCode, 401, 'no token configured: no token opens it');
  t.match(guessed.json(), { code: 'INVALID_TOKEN' });

  t.equal((await app.inject({ url: '/healthz', remoteAddress: REMOTE })).statusCode, 200, 'health stays open to probes');
  t.equal((await app.inject({ url: '/readyz', remoteAddress: REMOTE })).statusCode, 200, 'readiness too');
});

t.test('with a metrics token, another host reads /metrics with it and only with it', async (t) => {
  const app = await appWith('s3cret-metrics-token');
  t.teardown(() => app.close());
  const ok = await app.inject({ url: '/metrics', remoteAddress: REMOTE, headers: { authorization: 'Bearer s3cret-metrics-token' } });
  t.equal(ok.statusCode, 200);
  t.match(ok.body, /lgsp_http_requests_total/);

  const none = await app.inject({ url: '/metrics', remoteAddress: REMOTE });
  t.equal(none.statusCode, 401);
  t.match(none.headers['www-authenticate'], /^Bearer realm=/);
  t.match(none.json(), { code: 'UNAUTHENTICATED' });

  const wrong = await app.inject({ url: '/metrics', remoteAddress: REMOTE, headers: { authorization: 'Bearer s3cret-metrics-tokeN' } });
  t.equal(wrong.statusCode, 401);
  t.match(wrong.headers['www-authenticate'], /error="invalid_token"/);
  t.match(wrong.json(), { code: 'INVALID_TOKEN' });

  const basic = await app.inject({ url: '/metrics', remoteAddress: REMOTE, headers: { authorization: 'Basic czNjcmV0' } });
  t.equal(basic.statusCode, 401, 'another scheme');
  t.equal((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 200, 'the host itself still needs no token');
});

t.test('the token comes from LGSP_METRICS_TOKEN; blank is none', async (t) => {
  t.equal(metricsTokenFromEnv(' abc '), 'abc');
  t.equal(metricsTokenFromEnv('  '), undefined);
  t.equal(metricsTokenFromEnv(''), undefined);
});
