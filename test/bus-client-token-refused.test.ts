// BusClient (simulators, the mock portal's online filing, the CLI, TypeScript agency systems)
// gets a new token when the bus refuses the cached one with 401: a token is bound to the
// registry entry it was issued for (token-binding.ts), so after a system moved to another member
// or had its key or secret replaced its cached token is refused, and a long-running client was
// refused until that token expired. Against a small HTTP server standing in for the gateway.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BusClient } from '../services/platform/bus-client.js';
import { generateSigningJwk } from '../services/platform/keystore.js';

t.test('a cached token refused with 401 is replaced once, and the call made again', async (t) => {
  let issued = 0;
  /** Tokens the stand-in gateway takes; the first one is refused once the test says so. */
  const good = new Set<string>();
  const calls: string[] = [];
  let refuseAll = false;
  let refuseTokens = false;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/token' && refuseTokens) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client', error_description: 'disabled' }));
        return;
      }
      if (req.url === '/v1/token') {
        const token = `token-${++issued}`;
        good.add(token);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 300 }));
        return;
      }
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      calls.push(`${token} ${body}`);
      if (refuseAll || !good.has(token)) {
        res.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'INVALID_TOKEN' }));
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'm1', status: 'accepted' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const { privateJwk } = await generateSigningJwk();
  const client = new BusClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { clientId: 'so-tp-qlvb', privateJwk });
  const submission = { type: 'notice.send', to: { member: '000.00.24.H49', service: 'notice' }, payload: { subject: 's' } };

  t.equal((await client.send(submission)).status, 202, 'first call with a new token');
  good.delete('token-1'); // the registry entry the token was issued for changed
  const again = await client.send(submission);
  t.equal(again.status, 202, 'the refused token was replaced and the call made again');
  t.equal(issued, 2, 'one new token');
  t.same(calls.map((c) => c.split(' ')[0]), ['token-1', 'token-1', 'token-2'], 'the call was repeated once, with the new token');
  t.equal(calls[1].slice(8), calls[2].slice(8), 'with the same body');

  refuseAll = true; // refused whatever the token: the answer is the bus's, no loop
  const refused = await client.send(submission);
  t.equal(refused.status, 401, 'a fresh token refused too is answered as it is');
  t.equal(issued, 3, 'one more token, not a loop');
  t.equal(calls.length, 5, 'one more call each: with the cached token, then with a new one');

  refuseTokens = true; // the client disabled: no new token either
  const disabled = await client.send(submission);
  t.equal(disabled.status, 401, 'the bus\'s refusal is answered, not a token error thrown');
  t.same(disabled.body, { code: 'INVALID_TOKEN' });
});
