// A bearer token is refused with a clear reason whatever its header holds. The key lookup named
// the token's kid in its refusal with String(kid): a kid that is not a string but an array
// nested a few thousand deep (a 16 KiB header holds one) made String() recurse until the stack
// overflowed, and the 401 said "token rejected: Maximum call stack size exceeded" — an internal
// error (a stack overflow on the request path, caught by chance) as the client's reason.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

const b64 = (s: string) => Buffer.from(s).toString('base64url');

t.test('a token whose kid is not a string is refused as such', async (t) => {
  const bus = await startTestBus(t, { name: 'kid-not-string', connectors: [] });
  const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  for (const kid of [nested, '{"a":1}', '42', '["x"]']) {
    const token = `${b64(`{"alg":"ES256","typ":"at+jwt","kid":${kid}}`)}.${b64('{"sub":"so-tp-qlvb"}')}.${b64('not a signature')}`;
    const r = await fetch(`${bus.gateway.url}/v1/members`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(r.status, 401, `kid ${kid.slice(0, 12)}: refused`);
    t.match(r.headers.get('content-type'), /^application\/problem\+json/);
    t.match(r.headers.get('www-authenticate'), /error="invalid_token"/);
    const body = (await r.json()) as { code: string; detail: string };
    t.equal(body.code, 'INVALID_TOKEN');
    t.notMatch(body.detail, /call stack/i, 'no internal error as the reason');
    t.equal(body.detail, 'token rejected: no token key: the kid in the header is not a string');
  }
});
