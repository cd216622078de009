// The token endpoint's problem+json answers (429 RATE_LIMITED, 415, 413: what it shares with
// every route) carry OAuth's `error` and `error_description` beside `code`. OAuth client libraries
// read a token response's JSON and raise only when it has `error`: Python's Authlib took the 429
// problem document for a token, stored it, and the next API call failed with
// "UnsupportedTokenTypeError: Unsupported token_type: 'access_token'" — the rate limit and its
// Retry-After never reached the vendor (oauthlib: "Missing access token parameter").
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('problem answers of POST /v1/token name an OAuth error too', async (t) => {
  const bus = await startTestBus(t, { name: 'token-problem-oauth', runner: false, config: { tokenRateLimitPerMinute: 3 } });
  const tokenUrl = `${bus.gateway.url}/v1/token`;

  // Another method (a browser's GET, a client configured for GET): the 405 names OAuth's error too.
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const wrong = await fetch(tokenUrl, { method });
    t.equal(wrong.status, 405, `${method}: 405`);
    t.equal(wrong.headers.get('allow'), 'POST', `${method}: Allow: POST`);
    t.match(wrong.headers.get('content-type'), /^application\/problem\+json/, `${method}: still problem+json`);
    const refused = (await wrong.json()) as Record<string, unknown>;
    t.equal(refused.code, 'METHOD_NOT_ALLOWED', `${method}: with its stable code`);
    t.equal(refused.error, 'invalid_request', `${method}: and the OAuth error an OAuth library raises`);
    t.match(refused.error_description, /token endpoint takes POST only/, `${method}: saying POST is the method`);
  }

  const multipart = await fetch(tokenUrl, { method: 'POST', body: (() => { const f = new FormData(); f.set('grant_type', 'client_credentials'); return f; })() });
  t.equal(multipart.status, 415);
  t.match(multipart.headers.get('content-type'), /^application\/problem\+json/, 'still problem+json');
  const unsupported = (await multipart.json()) as Record<string, unknown>;
  t.equal(unsupported.code, 'UNSUPPORTED_MEDIA_TYPE', 'with its stable code');
  t.equal(unsupported.error, 'invalid_request', 'and the OAuth error an OAuth library raises');
  t.equal(unsupported.error_description, unsupported.detail);

  let limited: Response | undefined;
  for (let i = 0; i < 10 && !limited; i++) {
    const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    if (r.status === 429) limited = r;
    else await r.arrayBuffer();
  }
  if (!t.ok(limited, 'the token rate limit answers 429')) return;
  t.match(limited!.headers.get('content-type'), /^application\/problem\+json/);
  t.ok(Number(limited!.headers.get('retry-after')) >= 1, 'with Retry-After');
  const body = (await limited!.json()) as Record<string, unknown>;
  t.equal(body.code, 'RATE_LIMITED');
  t.equal(body.error, 'temporarily_unavailable', 'an error OAuth libraries raise (oauthlib: TemporarilyUnavailableError)');
  t.match(body.error_description, /retry after \d+ s/, 'saying when to come back');
  t.notOk('access_token' in body);
});
