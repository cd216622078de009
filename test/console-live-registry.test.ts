// A console live stream must not outlive the right to open it: one opened by an observer whose
// role the registry then takes away, or by a client it then disables, ended only when the token
// expired (LGSP_TOKEN_TTL_SECONDS, 5 minutes by default), streaming the bus's flows meanwhile,
// while every request of the same caller was already refused. It now ends within seconds.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import type { RegistryData } from '../services/platform/registry.js';
import { startTestBus } from './helpers/test-bus.js';
import { editRegistryFile } from './helpers/registry-file.js';

t.test('a live stream ends within seconds when the registry takes its reading right away', async (t) => {
  const bus = await startTestBus(t, { name: 'console-live-registry', runner: false });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const file = bus.config.registryFile;
  const editRegistry = (change: (data: RegistryData) => void) => editRegistryFile(file, change);
  /** Opens a live stream; resolves with how long it stayed open, or -1 if still open after `ms`. */
  const stream = async (headers: Record<string, string>) => {
    const live = await fetch(`${consoleSvc.url}/v1/console/live`, { headers });
    t.equal(live.status, 200, 'the stream opens');
    const reader = live.body!.getReader();
    const ended = (async () => {
      while (!(await reader.read()).done) { /* ticks */ }
      return true;
    })();
    return (ms: number) => Promise.race([ended, new Promise<false>((r) => setTimeout(() => r(false), ms))]).finally(() => void reader.cancel().catch(() => undefined));
  };

  const observerToken = await bus.client('lgsp-observer').accessToken();
  const login = await fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }) });
  t.equal(login.status, 200);
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  const byBearer = await stream({ authorization: `Bearer ${observerToken}` });
  const bySession = await stream({ cookie });

  editRegistry((data) => {
    data.systems.find((s) => s.clientId === 'lgsp-observer')!.roles = ['agency'];
    data.systems.find((s) => s.clientId === 'lgsp-operator')!.disabled = true;
  });
  t.equal(await byBearer(15_000), true, 'the stream of an observer whose role was taken away ends');
  t.equal(await bySession(15_000), true, 'the stream of a session whose client was disabled ends');
});
