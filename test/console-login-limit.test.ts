// Every console login reaches the gateway's token endpoint from the console's own address, so
// the gateway's per-address token limit applies to all of them together: when it is reached the
// console says so (429 with Retry-After), instead of calling the gateway unavailable (502).
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('a login refused by the gateway\'s token rate limit is a 429 with Retry-After', async (t) => {
  const bus = await startTestBus(t, { name: 'console-login-limit', runner: false, config: { tokenRateLimitPerMinute: 2 } });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const login = (clientId: string) =>
    fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId, clientSecret: bus.clients.get(clientId)?.clientSecret ?? 'sai' }) });

  t.equal((await login('lgsp-operator')).status, 200, 'the first login');
  t.equal((await login('nobody-here')).status, 401, 'a wrong one counts too');
  const refused = await login('lgsp-observer');
  t.equal(refused.status, 429, 'the third within the minute');
  t.match(refused.headers.get('content-type'), /^application\/problem\+json/);
  t.ok(Number(refused.headers.get('retry-after')) >= 1, 'with Retry-After');
  t.match(await refused.json(), { code: 'RATE_LIMITED', detail: /per-address limit/ });
});
