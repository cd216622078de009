// Over TLS the console's session cookie had a plain name: any other host of the agency's domain
// (same site, e.g. a compromised intranet page) could plant `lgsp_console_session` for the whole
// domain (Domain=agency.gov.vn), holding a session id of its own, and the console read it. An
// operator then worked in the planter's session (their actions audited as someone else's) or,
// the planted cookie sent first, could not stay logged in. Over TLS the cookie is now
// `__Host-lgsp_console_session` — which a browser accepts only from the console itself — and the
// plain name is not read there.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('behind a TLS-terminating proxy the session cookie is __Host- and only it is read', async (t) => {
  const bus = await startTestBus(t, { name: 'console-host-cookie', runner: false, config: { trustedProxies: ['127.0.0.1'] } });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const tls = { 'x-forwarded-proto': 'https' };
  const login = (clientId: string) =>
    fetch(`${consoleSvc.url}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...tls },
      body: JSON.stringify({ clientId, clientSecret: bus.clients.get(clientId)!.clientSecret }),
    });
  const whoAmI = async (cookie: string) => (await (await fetch(`${consoleSvc.url}/v1/console/session`, { headers: { cookie, ...tls } })).json()) as { authenticated: boolean; clientId?: string };

  const operator = await login('lgsp-operator');
  t.equal(operator.status, 200);
  const setCookie = operator.headers.get('set-cookie')!;
  t.match(setCookie, /^__Host-lgsp_console_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/, 'a __Host- cookie: Secure, Path=/, no Domain');
  const operatorId = /^__Host-lgsp_console_session=([^;]+)/.exec(setCookie)![1];
  t.match(await whoAmI(`__Host-lgsp_console_session=${operatorId}`), { authenticated: true, clientId: 'lgsp-operator' });

  // Someone else's session (an observer's), planted under the plain name for the whole domain.
  const planted = /^__Host-lgsp_console_session=([^;]+)/.exec((await login('lgsp-observer')).headers.get('set-cookie')!)![1];
  t.same(await whoAmI(`lgsp_console_session=${planted}`), { authenticated: false }, 'the plain name is not read over TLS');
  const messages = await fetch(`${consoleSvc.url}/v1/console/messages`, { headers: { cookie: `lgsp_console_session=${planted}`, ...tls } });
  t.equal(messages.status, 401, 'nor does it open the API');
  // Browsers send a Domain cookie set earlier before the console's own: the console's is read.
  t.match(await whoAmI(`lgsp_console_session=${planted}; __Host-lgsp_console_session=${operatorId}`), { authenticated: true, clientId: 'lgsp-operator' }, 'the operator stays in their own session');

  const out = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'DELETE', headers: { cookie: `__Host-lgsp_console_session=${operatorId}`, 'x-lgsp-console': '1', ...tls } });
  t.equal(out.status, 204, 'logout');
  t.match(out.headers.get('set-cookie'), /^__Host-lgsp_console_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0; Secure$/, 'clears the __Host- cookie (a browser takes it only with Secure)');
  t.match(await whoAmI(`__Host-lgsp_console_session=${operatorId}`), { authenticated: false, ended: { code: 'SESSION_ENDED', detail: 'You logged out of the console' } }, 'and the session is over, said as a logout');

  // Over plain HTTP (a machine's own console) browsers refuse the prefix: the plain name stays.
  const plain = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }) });
  t.match(plain.headers.get('set-cookie'), /^lgsp_console_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/, 'plain HTTP: the plain name, not Secure');
});
