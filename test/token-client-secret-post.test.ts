// A legacy system that puts its client secret in the form (client_secret_post, RFC 6749 §2.3.1:
// what Authlib sends with token_endpoint_auth_method='client_secret_post', and many hand-written
// clients) is told that this method is not taken and what to send instead. It was answered
// "Client authentication is required (private_key_jwt or client_secret_basic)", which reads as
// if no credentials had been sent at all. The secret is never echoed back.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('client_secret_post is refused by name, pointing at client_secret_basic', async (t) => {
  const bus = await startTestBus(t, { name: 'secret-post', runner: false });
  const legacy = bus.clients.get('so-khdt-qlvb')!;
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const form = (params: Record<string, string>) => fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });

  const posted = await form({ grant_type: 'client_credentials', client_id: legacy.clientId, client_secret: legacy.clientSecret! });
  t.equal(posted.status, 401);
  const body = (await posted.json()) as { error: string; error_description: string };
  t.equal(body.error, 'invalid_client', 'still OAuth\'s invalid_client, which client libraries read');
  t.match(body.error_description, /client_secret_post is not supported/, 'names the method it used');
  t.match(body.error_description, /HTTP Basic|client_secret_basic/, 'and says what to send instead');
  t.notMatch(body.error_description, legacy.clientSecret!, 'the secret is not echoed');

  // Without any credentials the answer is unchanged.
  const none = await form({ grant_type: 'client_credentials' });
  t.equal(none.status, 401);
  t.equal(((await none.json()) as { error_description: string }).error_description, 'Client authentication is required (private_key_jwt or client_secret_basic)');

  // The same secret as HTTP Basic gets its token.
  const basic = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${legacy.clientId}:${legacy.clientSecret}`).toString('base64')}` }, body: 'grant_type=client_credentials' });
  t.equal(basic.status, 200, 'client_secret_basic with the same secret is taken');
});
