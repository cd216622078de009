// A console session ended by a refused token (its client disabled in the registry) was, from the
// next request on, a generic "session ended" — which the page reads as an expired session — and
// the session check (GET /v1/console/session, what the page asks when its live stream drops)
// said only "not logged in". The console now remembers for a while why a session ended: the
// session check answers `ended: {code, detail}`, and later requests with the cookie are refused
// with that same reason. A logout is remembered as such.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { editRegistryFile } from './helpers/registry-file.js';

const OBSERVER = 'lgsp-observer';

t.test('the console says why a session ended', async (t) => {
  const bus = await startTestBus(t, { name: 'console-session-ended', runner: false });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const login = async () => {
    const r = await fetch(`${consoleSvc.url}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: OBSERVER, clientSecret: bus.clients.get(OBSERVER)!.clientSecret }),
    });
    if (r.status !== 200) throw new Error(`login answered ${r.status}`);
    return r.headers.get('set-cookie')!.split(';')[0];
  };
  const sessionCheck = async (cookie: string) => (await fetch(`${consoleSvc.url}/v1/console/session`, { headers: { cookie } })).json();
  const registryView = async (cookie: string) => {
    const r = await fetch(`${consoleSvc.url}/v1/console/registry`, { headers: { cookie } });
    return { status: r.status, body: (await r.json()) as { code?: string; detail?: string } };
  };

  const cookie = await login();
  t.match(await sessionCheck(cookie), { authenticated: true, clientId: OBSERVER });

  editRegistryFile(bus.config.registryFile, (data) => {
    data.systems.find((s) => s.clientId === OBSERVER)!.disabled = true;
  });
  const refused = await eventually(async () => {
    const r = await registryView(cookie);
    return r.status === 401 ? r : null;
  }, 10_000);
  t.equal(refused.body.code, 'INVALID_TOKEN', 'the request that meets the disabled client is refused as such');
  t.match(refused.body.detail, /disabled in the registry/);

  const check = (await sessionCheck(cookie)) as { authenticated: boolean; ended?: { code: string; detail: string } };
  t.equal(check.authenticated, false);
  t.equal(check.ended?.code, 'INVALID_TOKEN', 'the session check says the session ended on a refused token');
  t.equal(check.ended?.detail, refused.body.detail, 'with the same reason');

  const again = await registryView(cookie);
  t.equal(again.status, 401);
  t.equal(again.body.code, 'INVALID_TOKEN', 'a later request with the cookie is refused with that reason, not as an ended session');
  t.equal(again.body.detail, refused.body.detail);

  editRegistryFile(bus.config.registryFile, (data) => {
    delete data.systems.find((s) => s.clientId === OBSERVER)!.disabled;
  });
  const second = await eventually(async () => login().catch(() => null), 10_000);
  const out = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'DELETE', headers: { cookie: second, 'x-lgsp-console': '1' } });
  t.equal(out.status, 204, 'logged out');
  t.match(await sessionCheck(second), { authenticated: false, ended: { code: 'SESSION_ENDED', detail: 'You logged out of the console' } }, 'a logout is remembered as one');
  t.same(await sessionCheck('lgsp_console_session=never-issued'), { authenticated: false }, 'a session id the console never issued gets no reason');
});
