import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('per-client rate limit answers 429 problem+json with Retry-After', async (t) => {
  const bus = await startTestBus(t, { name: 'ratelimit', runner: false, config: { rateLimitPerMinute: 5 } });
  const client = bus.client('so-tttt-qlvb');
  const other = bus.client('so-tp-qlvb');
  const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'x', body: 'y' } };
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await client.send(notice)).status);
  t.same(statuses.slice(0, 5), [202, 202, 202, 202, 202]);
  const limited = await client.send(notice);
  t.equal(limited.status, 429);
  t.equal(limited.body.code, 'RATE_LIMITED');
  t.match(limited.headers.get('content-type'), /problem\+json/);
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After');
  const otherResult = await other.send({ ...notice, to: { member: '000.00.12.H49', service: 'notice' } });
  t.equal(otherResult.status, 202, 'limits are per client: another client is not affected');

  // Refused bodies count too: four malformed ones and the fifth request of the minute is the last.
  const headers = { authorization: `Bearer ${await other.accessToken()}`, 'content-type': 'application/json' };
  const malformed = [];
  for (let i = 0; i < 3; i++) malformed.push((await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers, body: '{"type": ' })).status);
  t.same(malformed, [400, 400, 400]);
  t.equal((await other.send({ ...notice, to: { member: '000.00.12.H49', service: 'notice' } })).status, 202, 'the fifth');
  t.equal((await other.send({ ...notice, to: { member: '000.00.12.H49', service: 'notice' } })).status, 429, 'the malformed bodies were counted');
});

t.test('behind a trusted proxy the token endpoint counts the client addresses it forwards', async (t) => {
  const bus = await startTestBus(t, { name: 'ratelimit-proxy', runner: false, config: { tokenRateLimitPerMinute: 2, trustedProxies: ['127.0.0.1'] } });
  const tokenFrom = (forwardedFor: string) =>
    fetch(`${bus.gateway.url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('so-tttt-qlvb:sai').toString('base64')}`, 'x-forwarded-for': forwardedFor },
      body: 'grant_type=client_credentials',
    });
  t.same([(await tokenFrom('203.0.113.9')).status, (await tokenFrom('203.0.113.9')).status], [401, 401], 'two wrong secrets from one agency');
  t.equal((await tokenFrom('203.0.113.9')).status, 429, 'the third from that agency is limited');
  t.equal((await tokenFrom('198.51.100.4')).status, 401, 'another agency behind the same ingress is not (its request is judged on its merits)');
});
