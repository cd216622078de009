// A path that exists under other methods answers 405 with `Allow` (RFC 9110 §15.5.6), as
// problem+json METHOD_NOT_ALLOWED; a path no route takes stays 404 ROUTE_NOT_FOUND. Checked on
// a Fastify app with the services' problem handler, and on the real gateway's own routes.
import t from 'tap';
import Fastify from 'fastify';
import { problemHandler } from '../services/platform/problem-handler.js';
import { routePattern } from '../services/platform/route-methods.js';

async function startApp() {
  const app = Fastify();
  await app.register(problemHandler, { maxBodyBytes: 64 * 1024 });
  app.post('/v1/messages', async () => ({ ok: true }));
  app.get('/v1/messages/:id', async () => ({ ok: true }));
  app.register(async (scope) => {
    scope.post('/v1/inbox/:id/ack', async () => ({ ok: true }));
    scope.route({ method: ['GET', 'POST'], url: '/v1/connectors/:name/status', handler: async () => ({ ok: true }) });
  });
  app.get('/docs/*', async () => 'docs');
  await app.ready();
  return app;
}

t.test('wrong method on an existing path: 405, Allow, problem+json', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const cases: Array<[string, string, string]> = [
    ['DELETE', '/v1/messages', 'POST'],
    ['GET', '/v1/messages', 'POST'],
    ['POST', '/v1/messages/0190a0a0-0000-7000-8000-000000000000', 'GET, HEAD'],
    ['PUT', '/v1/messages/abc?x=1', 'GET, HEAD'],
    ['GET', '/v1/inbox/123/ack', 'POST'],
    ['DELETE', '/v1/connectors/relay/status', 'GET, HEAD, POST'],
    ['POST', '/docs/static/index.html', 'GET, HEAD'],
  ];
  for (const [method, url, allow] of cases) {
    const res = await app.inject({ method: method as 'GET', url });
    t.equal(res.statusCode, 405, `${method} ${url}`);
    t.equal(res.headers.allow, allow, `${method} ${url}: Allow`);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    t.match(res.json(), { status: 405, code: 'METHOD_NOT_ALLOWED', title: 'Method not allowed', type: 'https://lgsp.example.gov.vn/problems/method-not-allowed' });
  }
});

t.test('a CORS preflight is the 405, with no Access-Control header (README: no CORS)', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const res = await app.inject({
    method: 'OPTIONS',
    url: '/v1/messages',
    headers: { origin: 'https://app.so-tp.example.gov.vn', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  t.equal(res.statusCode, 405);
  t.equal(res.headers.allow, 'POST');
  t.match(res.json(), { code: 'METHOD_NOT_ALLOWED' });
  t.same(Object.keys(res.headers).filter((h) => h.startsWith('access-control-')), [], 'a browser is told nothing that would let it call');
});

t.test('a path no route takes stays 404; right methods are untouched', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  for (const url of ['/v1/nothing', '/v1/messages/a/b', '/v1/inbox/123', '/v1/messages/', '/v2/messages']) {
    const res = await app.inject({ method: 'DELETE', url });
    t.equal(res.statusCode, 404, `DELETE ${url}`);
    t.equal(res.headers.allow, undefined);
    t.match(res.json(), { code: 'ROUTE_NOT_FOUND', status: 404 });
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/messages' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/v1/messages/x' })).statusCode, 200);
  t.equal((await app.inject({ method: 'HEAD', url: '/v1/messages/x' })).statusCode, 200);
});

t.test('route patterns: params take one segment, static parts are literal, * the rest', async (t) => {
  t.ok(routePattern('/v1/messages/:id').test('/v1/messages/abc'));
  t.notOk(routePattern('/v1/messages/:id').test('/v1/messages/abc/def'));
  t.notOk(routePattern('/v1/messages/:id').test('/v1/messages/'));
  t.ok(routePattern('/v1/console/kpi.csv').test('/v1/console/kpi.csv'));
  t.notOk(routePattern('/v1/console/kpi.csv').test('/v1/console/kpiXcsv'), 'a dot is a dot');
  t.ok(routePattern('/files/:id(^\\d+$)/raw').test('/files/12/raw'));
  t.ok(routePattern('/docs/*').test('/docs/a/b/c'));
});
