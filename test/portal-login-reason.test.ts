// A refused portal login fails the dossier message with a reason that reaches the sending
// agency's timeline (GET /v1/messages/{id}): it says what to check without naming the
// province's portal account, which is the operators' to read in the connector's configuration.
// Unit test against a local portal stand-in: no Kafka.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortalClient } from '../connectors/one-stop-shop/portal-client.js';

t.test('a refused portal login names no account', async (t) => {
  const portal: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ error_code: '2', message: 'Sai tên đăng nhập hoặc mật khẩu' })));
  });
  await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => portal.close(() => resolve())));
  const url = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
  const username = 'lgsp-h49-account';
  const client = new PortalClient({ portalUrl: url, loginPath: '/api/auth/login', integrationPath: '/api/integration', sharePath: '/api/share', username, requestTimeoutMs: 2000 }, () => 'p');
  const err = await client.call('share', '000.00.15.H49', { service: 'TraCuuHoSo', mahoso: 'X' }, new AbortController().signal).then(() => null, (e: Error) => e);
  t.ok(err, 'the call fails');
  t.match(err!.message, /^portal login refused: check the connector's credentials/, `says what to check: ${err!.message}`);
  t.notMatch(err!.message, username, 'without the account name');
});
