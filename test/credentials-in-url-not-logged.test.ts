// A credential put in a URL's query string is refused, but it must not be written to the logs:
// with LOG_LEVEL=debug (or trace), the level an operator turns on to trouble-shoot, every
// service logs each request's URL (Fastify's "incoming request" line), and an
// access token (RFC 6750 §2.3's ?access_token=, which no service takes), a client secret or a
// client assertion (which RFC 6749 forbids in the URI) was logged whole, signature included —
// a token anyone reading the logs could use until it expired. A real gateway process, its
// standard output read as an operator's log collector would.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { startTestBus, eventually, serviceProcessEnv } from './helpers/test-bus.js';

t.test('credentials in a query string are not logged', async (t) => {
  const bus = await startTestBus(t, { name: 'url-credentials', connectors: [] });
  let child: ChildProcess | null = null;
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'services', 'gateway', 'main.js')], {
      env: { ...serviceProcessEnv(bus.config), LGSP_INSTANCE_ID: `url-credentials-${process.pid}`, LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]);
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code, signal) => reject(new Error(`gateway exited (${code ?? signal}) before listening:\n${output.slice(-2000)}`)));
  });

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

  await eventually(() => output.includes('/v1/documents?'), 10_000);
  t.notOk(output.includes(signature), 'the access token is not in the log');
  t.notOk(output.includes(secret), 'the client secret is not in the log');
  t.notOk(output.includes('c2lnbmF0dXJlLW9mLWFuLWFzc2VydGlvbg'), 'the client assertion is not in the log');
  // The URLs are still logged, with the credentials' values redacted and the rest as it came.
  t.match(output, '"url":"/v1/members?access_token=[redacted]"');
  t.match(output, '"url":"/v1/token?client_id=so-tttt-qlvb&client_secret=[redacted]&client_assertion=[redacted]"');
  t.match(output, '"url":"/v1/documents?documentId=000.00.12.H49%2C2026%2F05%2F01%2C1%2FQD&Access%5FToken=[redacted]"');
});
