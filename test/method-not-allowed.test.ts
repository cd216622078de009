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

// The route decides before the body is looked at: a client that used the wrong method is told
// so (405 with Allow), not about a body no route would have read. Schemathesis found QUERY (RFC
// 10008) answered 400 "Method 'QUERY' must provide a 'Content-Type' header" on every path of
// every service (Fastify's check for that method ran before the not-found handler), and a wrong
// method's body was judged first (PATCH with a broken JSON body: 400 MALFORMED_JSON).
t.test('a wrong method or a path no route takes: answered for the route, whatever the body', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const cases: Array<[string, string, Record<string, string>, string | undefined, number, string | undefined]> = [
    ['QUERY', '/v1/messages', {}, undefined, 405, 'POST'],
    ['QUERY', '/v1/messages/abc', { 'content-type': 'application/json' }, '{}', 405, 'GET, HEAD'],
    ['QUERY', '/v1/nothing', {}, undefined, 404, undefined],
    ['PATCH', '/v1/messages/abc', { 'content-type': 'application/json' }, '{"broken":', 405, 'GET, HEAD'],
    ['PUT', '/v1/inbox/123/ack', { 'content-type': 'application/json' }, '{"broken":', 405, 'POST'],
    ['POST', '/v1/nothing', { 'content-type': 'application/json' }, '{"broken":', 404, undefined],
    ['DELETE', '/v1/messages/abc', { 'content-type': 'text/x-unknown' }, 'bytes', 405, 'GET, HEAD'],
    ['PATCH', '/v1/messages/abc', { 'content-type': 'application/json' }, JSON.stringify({ big: 'x'.repeat(70 * 1024) }), 405, 'GET, HEAD'],
  ];
  for (const [method, url, headers, body, status, allow] of cases) {
    const res = await app.inject({ method: method as 'GET', url, headers, body });
    const what = `${method} ${url} ${body === undefined ? '(no body)' : `(${headers['content-type']} ${body.slice(0, 12)})`}`;
    t.equal(res.statusCode, status, `${what}: ${status} (${res.body.slice(0, 160)})`);
    t.equal(res.headers.allow, allow, `${what}: Allow`);
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`);
    t.match(res.json(), { status, code: status === 405 ? 'METHOD_NOT_ALLOWED' : 'ROUTE_NOT_FOUND' }, what);
  }
  // The routes themselves still read and judge their bodies.
  const broken = await app.inject({ method: 'POST', url: '/v1/messages', headers: { 'content-type': 'application/json' }, body: '{"broken":' });
  t.match([broken.statusCode, broken.json().code], [400, 'MALFORMED_JSON'], 'a route\'s own body is parsed and refused as before');
});
