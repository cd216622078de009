// What reaches every bus service before any route, from RFC 9112's rules on the request line and
// Host: an HTTP/1.1 request without Host (Node answered an empty 400) or with two Host lines
// (Node served the first, where a proxy in front may have routed on the other) is a 400
// problem+json; CONNECT (Node closed the connection without a word) is a 501 problem+json.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { parseAnswer, rawExchange } from './helpers/raw-http.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('Host and CONNECT are answered as problem+json by every service', async (t) => {
  const bus = await startTestBus(t, { name: 'host-header' });
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());

  for (const [service, url] of [['gateway', bus.gateway.url], ['runner', bus.runner!.url], ['audit', audit.url], ['console', consoleSvc.url]] as const) {
    const port = Number(new URL(url).port);
    const noHost = parseAnswer((await rawExchange(port, 'GET /healthz HTTP/1.1\r\n\r\n')).answer);
    t.equal(noHost.status, 400, `${service}: HTTP/1.1 without Host`);
    t.match(noHost.headers, /content-type: application\/problem\+json/);
    t.match(noHost.body, { status: 400, code: 'BAD_REQUEST', detail: /needs a Host header/ });

    const twoHosts = parseAnswer((await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n')).answer);
    t.equal(twoHosts.status, 400, `${service}: two Host lines`);
    t.match(twoHosts.body, { code: 'BAD_REQUEST', detail: /Host header once/ });

    const oneHost = parseAnswer((await rawExchange(port, 'GET /healthz HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n')).answer);
    t.equal(oneHost.status, 200, `${service}: one Host line is served`);
    const http10 = parseAnswer((await rawExchange(port, 'GET /healthz HTTP/1.0\r\n\r\n')).answer);
    t.equal(http10.status, 200, `${service}: HTTP/1.0 needs no Host`);

    const tunnel = await rawExchange(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    t.ok(tunnel.closed, `${service}: the connection closes after CONNECT`);
    const refused = parseAnswer(tunnel.answer);
    t.equal(refused.status, 501, `${service}: CONNECT is not implemented`);
    t.match(refused.headers, /content-type: application\/problem\+json/);
    t.match(refused.headers, /cache-control: no-store/);
    t.match(refused.body, { status: 501, code: 'METHOD_NOT_IMPLEMENTED', type: /method-not-implemented$/ });
  }
});
