// A client's rate limit counts its requests on every gateway (shared-rate-limit.ts): behind a
// load balancer over two gateways, a client limited to 4 requests a minute is refused its fifth,
// whichever gateway takes it, once the gateways have shared their counts (every second). Each
// gateway counted alone before, so two of them let the client send 8.
import t from 'tap';
import { BusClient } from '../services/platform/bus-client.js';
import { RATE_LIMIT_WINDOW_MS, RATE_SYNC_MS } from '../services/gateway/shared-rate-limit.js';
import { startTestBus } from './helpers/test-bus.js';

const LIMITED = 'xa-hoaphuoc-qlvb';
const LIMIT = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a client limited to 4 a minute is refused its fifth request, on either of two gateways', async (t) => {
  const bus = await startTestBus(t, {
    name: 'rate-limit-shared',
    gateways: 2,
    registry: (data) => {
      data.systems.find((s) => s.clientId === LIMITED)!.rateLimitPerMinute = LIMIT;
    },
  });
  const [first, second] = bus.gateways;
  const token = await new BusClient(first.url, bus.clients.get(LIMITED)!, bus.config.issuer).accessToken();
  const members = (gateway: { url: string }) => fetch(`${gateway.url}/v1/members`, { headers: { authorization: `Bearer ${token}` } });

  // The windows are minutes of the clock: the test's requests all fall in one.
  const intoWindow = Date.now() % RATE_LIMIT_WINDOW_MS;
  if (intoWindow > RATE_LIMIT_WINDOW_MS - 15_000) await sleep(RATE_LIMIT_WINDOW_MS - intoWindow + 100);

  const answers = [];
  for (const gateway of [first, second, first, second]) answers.push(await members(gateway));
  t.same(answers.map((r) => r.status), [200, 200, 200, 200], 'its first four, two on each gateway');
  // Two syncs: each gateway has written its count and read the other's.
  await sleep(2.5 * RATE_SYNC_MS);

  for (const [name, gateway] of [['first', first], ['second', second]] as const) {
    const refused = await members(gateway);
    t.equal(refused.status, 429, `the ${name} gateway refuses the next: 2 of its own and 2 of the other's make 4`);
    t.match(await refused.json(), { code: 'RATE_LIMITED', status: 429 });
    t.equal(refused.headers.get('x-ratelimit-limit'), String(LIMIT));
    t.equal(refused.headers.get('x-ratelimit-remaining'), '0');
  }
  // Another client is not touched by it.
  const other = await new BusClient(second.url, bus.clients.get('so-tttt-qlvb')!, bus.config.issuer).request('GET', '/v1/members');
  t.equal(other.status, 200, 'another client is counted apart');
});
