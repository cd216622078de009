// Every console login reaches the gateway's token endpoint from the console's own address, so
// the gateway's per-address token limit applies to all of them together: when it is reached the
// console says so (429 with Retry-After), instead of calling the gateway unavailable (502); and
// the console's own limit per address keeps one address from using the gateway's up.
import t from 'tap';
import { Agent, fetch as undiciFetch } from 'undici';
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

t.test('one address trying many client ids is stopped by the console before the gateway\'s limit', async (t) => {
  const bus = await startTestBus(t, { name: 'console-login-address', runner: false });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  // Loopback answers any 127.x.y.z: a second source address is a second operator's machine.
  const elsewhere = new Agent({ localAddress: '127.0.0.2' });
  t.teardown(() => elsewhere.close());
  const login = (clientId: string, clientSecret: string, dispatcher?: Agent) =>
    undiciFetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId, clientSecret }), ...(dispatcher ? { dispatcher } : {}) });

  const statuses: number[] = [];
  for (let i = 0; i < 60; i++) statuses.push((await login(`doan-${i}`, 'sai')).status);
  t.same([...new Set(statuses)], [401], 'sixty guesses with sixty client ids, each refused on its merits');
  const stopped = await login('doan-60', 'sai');
  t.equal(stopped.status, 429, 'the sixty-first from that address');
  t.ok(Number(stopped.headers.get('retry-after')) >= 1);
  t.match(await stopped.json(), { code: 'RATE_LIMITED' });
  const operator = await login('lgsp-operator', bus.clients.get('lgsp-operator')!.clientSecret!, elsewhere);
  t.equal(operator.status, 200, `an operator at another address still logs in (${operator.status} ${await operator.clone().text()})`);
});

t.test('behind a trusted proxy, logins are counted per client address it forwards; nobody else is believed', async (t) => {
  // The console's peer is 127.0.0.1, the "ingress"; 127.0.0.2 is a client talking to it directly.
  const bus = await startTestBus(t, { name: 'console-login-proxy', runner: false, config: { trustedProxies: ['127.0.0.1'] } });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const direct = new Agent({ localAddress: '127.0.0.2' });
  t.teardown(() => direct.close());
  const login = (clientId: string, clientSecret: string, headers: Record<string, string>, dispatcher?: Agent) =>
    undiciFetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ clientId, clientSecret }), ...(dispatcher ? { dispatcher } : {}) });

  const guesser = { 'x-forwarded-for': '203.0.113.9' };
  for (let i = 0; i < 60; i++) await login(`doan-${i}`, 'sai', guesser);
  t.equal((await login('doan-60', 'sai', guesser)).status, 429, 'the guesser the proxy names is stopped');
  const operator = await login('lgsp-operator', bus.clients.get('lgsp-operator')!.clientSecret!, { 'x-forwarded-for': '198.51.100.4', 'x-forwarded-proto': 'https' });
  t.equal(operator.status, 200, 'an operator behind the same proxy still logs in');
  t.match(operator.headers.get('set-cookie'), /; Secure/, 'the proxy terminated TLS: the cookie is Secure');

  // A client that is no trusted proxy cannot choose its address by sending the header.
  for (let i = 0; i < 60; i++) await login(`doan-${i}`, 'sai', { 'x-forwarded-for': `203.0.113.${100 + i}` }, direct);
  const stillCounted = await login('doan-60', 'sai', { 'x-forwarded-for': '203.0.113.250' }, direct);
  t.equal(stillCounted.status, 429, 'forwarded headers from an untrusted peer are ignored');
});

t.test('a gateway that trusts the console counts console logins per operator address', async (t) => {
  const bus = await startTestBus(t, { name: 'console-login-forward', runner: false, config: { tokenRateLimitPerMinute: 2, trustedProxies: ['127.0.0.1'] } });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: 'http://127.0.0.1:9', runner: 'http://127.0.0.1:9' } });
  t.teardown(() => consoleSvc.stop());
  const operatorSecret = bus.clients.get('lgsp-operator')!.clientSecret!;
  const loginFrom = (address: string) =>
    fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': address }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: operatorSecret }) });
  t.same([(await loginFrom('198.51.100.4')).status, (await loginFrom('198.51.100.4')).status], [200, 200], 'one operator, twice');
  const third = await loginFrom('198.51.100.4');
  t.equal(third.status, 429, 'the gateway\'s limit holds for that operator');
  t.match(await third.json(), { code: 'RATE_LIMITED' });
  t.equal((await loginFrom('198.51.100.5')).status, 200, 'another operator is counted apart, not behind the console\'s single address');
});
