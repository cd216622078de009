// Answers of the bus services hold agency data and answer authenticated requests: none may be
// kept by a browser, a client library or a proxy (Cache-Control: no-store), read as anything
// but what it says (nosniff), framed by another site (X-Frame-Options), run or load anything when
// opened in a browser (CSP) or name its URL to another site (Referrer-Policy) — refusals included.
// A route whose answer may be kept says so and keeps its own Cache-Control; a page (the console,
// the gateway's /docs) has its own policy.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('every service answers no-store, nosniff and DENY unless the route allows caching', async (t) => {
  const bus = await startTestBus(t, { name: 'response-headers' });
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());
  const agency = bus.client('so-tttt-qlvb');
  const bearer = { authorization: `Bearer ${await agency.accessToken()}` };
  const operator = { authorization: `Bearer ${await bus.client('lgsp-operator').accessToken()}` };
  const sent = await agency.send({ type: 'notice.send', to: { member: '000.00.15.H49' }, payload: { subject: 'Thông báo', body: 'Nội dung' } });
  t.equal(sent.status, 202);

  const guarded = async (what: string, url: string, headers: Record<string, string>, status: number) => {
    const r = await fetch(url, { headers });
    await r.arrayBuffer();
    t.equal(r.status, status, `${what}: ${status}`);
    t.equal(r.headers.get('cache-control'), 'no-store', `${what}: not stored`);
    t.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
    t.equal(r.headers.get('x-frame-options'), 'DENY', `${what}: not framed`);
    t.equal(r.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'", `${what}: runs and loads nothing if opened in a browser`);
    t.equal(r.headers.get('referrer-policy'), 'no-referrer', `${what}: names no URL to another site`);
  };
  await guarded('a message status', `${bus.gateway.url}/v1/messages/${sent.body.id}`, bearer, 200);
  await guarded('the inbox', `${bus.gateway.url}/v1/inbox`, bearer, 200);
  await guarded('a refusal without a token', `${bus.gateway.url}/v1/members`, {}, 401);
  await guarded('an unknown route', `${bus.gateway.url}/v1/nothing-here`, bearer, 404);
  await guarded('the runner\'s connectors', `${bus.runner!.url}/v1/connectors`, operator, 200);
  await guarded('the audit integrity', `${audit.url}/v1/audit/integrity`, operator, 200);
  await guarded('the console\'s registry', `${consoleSvc.url}/v1/console/registry`, operator, 200);
  await guarded('a console refusal', `${consoleSvc.url}/v1/console/registry`, {}, 401);

  // Routes that allow caching keep their own policy.
  const jwks = await fetch(`${bus.gateway.url}/.well-known/jwks.json`);
  await jwks.arrayBuffer();
  t.equal(jwks.headers.get('cache-control'), 'public, max-age=60', 'the JWKS may be cached for a minute');
  const page = await fetch(`${consoleSvc.url}/`);
  await page.arrayBuffer();
  t.equal(page.headers.get('cache-control'), 'no-cache', 'the console page is revalidated, not forbidden to cache');
  t.equal(page.headers.get('x-frame-options'), 'DENY', 'and is never framed');
  t.match(page.headers.get('content-security-policy'), /^default-src 'self';.*script-src 'self'/, 'the console page keeps its own policy');

  // The gateway's API documentation is a public page on the API's origin: a policy of its own,
  // for its page and every file it loads, never none.
  for (const path of ['/docs', '/docs/static/index.html', '/docs/static/swagger-initializer.js', '/docs/json']) {
    const docs = await fetch(`${bus.gateway.url}${path}`);
    await docs.arrayBuffer();
    t.equal(docs.status, 200, `${path}: served`);
    const csp = docs.headers.get('content-security-policy') ?? '';
    t.match(csp, /(^|; )script-src 'self'(;|$)/, `${path}: only the page's own script files run`);
    t.match(csp, /(^|; )frame-ancestors 'none'(;|$)/, `${path}: never framed`);
    t.notMatch(csp, /script-src[^;]*'unsafe-inline'/, `${path}: no inline script`);
    t.equal(docs.headers.get('referrer-policy'), 'no-referrer', `${path}: names no URL to another site`);
  }
});
