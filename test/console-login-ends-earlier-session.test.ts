// A login from a browser that still held a console session left that session alive until its
// token expired: its cookie was replaced, but the id kept working (a copy of it, a live stream
// still open on it) for whoever had logged in before, another operator at a shared desk. A login
// now ends the session the request came with: its id is refused and its live stream closes.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('a login ends the session the browser held before', async (t) => {
  const bus = await startTestBus(t, { name: 'console-login-rotates', runner: false });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const login = async (clientId: string, cookie?: string) => {
    const res = await fetch(`${consoleSvc.url}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ clientId, clientSecret: bus.clients.get(clientId)!.clientSecret }),
    });
    t.equal(res.status, 200, `${clientId} logs in`);
    return /^(lgsp_console_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1];
  };
  const first = await login('lgsp-observer');
  const untouched = await login('lgsp-observer');
  t.equal((await fetch(`${consoleSvc.url}/v1/console/overview`, { headers: { cookie: first } })).status, 200, 'the first session works');

  const stream = await fetch(`${consoleSvc.url}/v1/console/live`, { headers: { cookie: first } });
  t.equal(stream.status, 200, 'a live stream opens on it');
  const reader = stream.body!.getReader();
  await reader.read();

  const second = await login('lgsp-operator', first);
  t.not(second, first, 'the new login has a new id');
  const reused = await fetch(`${consoleSvc.url}/v1/console/overview`, { headers: { cookie: first } });
  t.equal(reused.status, 401, 'the earlier id is refused once the browser logged in again');
  t.match(await reused.json(), { code: 'SESSION_ENDED', detail: /log in again/ });
  // The stream ends (done) rather than ticking on for the one who logged in before.
  const ended = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    void (async () => {
      for (;;) {
        const { done } = await reader.read().catch(() => ({ done: true }));
        if (done) break;
      }
      clearTimeout(timer);
      resolve(true);
    })();
  });
  t.ok(ended, 'its live stream closes');
  t.equal((await fetch(`${consoleSvc.url}/v1/console/overview`, { headers: { cookie: second } })).status, 200, 'the new session works');
  t.equal((await fetch(`${consoleSvc.url}/v1/console/overview`, { headers: { cookie: untouched } })).status, 200, 'another browser\'s session is not touched');
});
