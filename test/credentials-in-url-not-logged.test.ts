// A credential put in a URL's query string is refused, but it must not be written to the logs:
// with LOG_LEVEL=debug (or trace), the level an operator turns on to trouble-shoot, every
// service logs each request's URL (Fastify's "incoming request" line), and an
// access token (RFC 6750 §2.3's ?access_token=, which no service takes), a client secret or a
// client assertion (which RFC 6749 forbids in the URI) was logged whole, signature included —
// a token anyone reading the logs could use until it expired. A real gateway process, its
// standard output read as an operator's log collector would.
import t from 'tap';
import { startTestBus, eventually, serviceProcessEnv } from './helpers/test-bus.js';
import { startServiceProcess } from './helpers/service-process.js';

t.test('credentials in a query string are not logged', async (t) => {
  const bus = await startTestBus(t, { name: 'url-credentials', connectors: [] });
  const gateway = await startServiceProcess(t, 'gateway', { ...serviceProcessEnv(bus.config), LGSP_INSTANCE_ID: `url-credentials-${process.pid}`, LOG_LEVEL: 'debug' });
  const url = gateway.url;

  const token = await bus.client('so-tttt-qlvb').accessToken();
  const signature = token.split('.')[2];
  const secret = 'not-a-real-secret-0123456789abcdef';
  const assertion = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLW9mLWFuLWFzc2VydGlvbg';

  const members = await fetch(`${url}/v1/members?access_token=${token}`);
  t.equal(members.status, 401, 'a token in the query string is no authentication');
  t.match(members.headers.get('content-type'), /^application\/problem\+json/);
  const tokenRequest = await fetch(`${url}/v1/token?client_id=so-tttt-qlvb&client_secret=${secret}&client_assertion=${assertion}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  t.equal(tokenRequest.status, 401, 'nor are client credentials');
  const documents = await fetch(`${url}/v1/documents?documentId=000.00.12.H49%2C2026%2F05%2F01%2C1%2FQD&Access%5FToken=${token}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(documents.status, 400, 'an unknown query parameter is refused');

  await eventually(() => gateway.output().includes('/v1/documents?'), 10_000);
  t.notOk(gateway.output().includes(signature), 'the access token is not in the log');
  t.notOk(gateway.output().includes(secret), 'the client secret is not in the log');
  t.notOk(gateway.output().includes('c2lnbmF0dXJlLW9mLWFuLWFzc2VydGlvbg'), 'the client assertion is not in the log');
  // The URLs are still logged, with the credentials' values redacted and the rest as it came.
  t.match(gateway.output(), '"url":"/v1/members?access_token=[redacted]"');
  t.match(gateway.output(), '"url":"/v1/token?client_id=so-tttt-qlvb&client_secret=[redacted]&client_assertion=[redacted]"');
  t.match(gateway.output(), '"url":"/v1/documents?documentId=000.00.12.H49%2C2026%2F05%2F01%2C1%2FQD&Access%5FToken=[redacted]"');
});
