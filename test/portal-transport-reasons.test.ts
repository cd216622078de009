// What a one-stop system reads on its dossier's timeline when the portal call failed in transit.
// "portal answered HTTP 503" did not say which call (the connector makes a TraCuuHoSo before a
// DongBoHoSoMC), and a portal that took the connection but answered nothing within
// requestTimeoutMs read "portal … unreachable: TimeoutError", sending operators to look for a
// network fault when the portal was up and slow. The reasons now name the portal call, and a
// timeout says how long the connector waited (in words the runner's destination circuit still
// counts as a connection failure). Unit test: a local portal stand-in, no Kafka.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortalClient } from '../connectors/one-stop-shop/portal-client.js';
import { isConnectionFailure } from '../services/runner/destination-circuit.js';

t.test('a failed portal call names the call; a timeout says it was one', async (t) => {
  let hang = false;
  const portal: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/api/auth/login') return res.end(JSON.stringify({ error_code: '0', session: 's1' }));
      if (hang) return; // takes the call, never answers
      res.writeHead(503, { 'retry-after': '1' }).end(JSON.stringify({ error_code: '10', message: 'Hệ thống đang bận' }));
    });
  });
  await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { portal.closeAllConnections(); portal.close(() => resolve()); }));
  const url = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
  const endpoints = { portalUrl: url, loginPath: '/api/auth/login', integrationPath: '/api/integration', sharePath: '/api/share', username: 'u', requestTimeoutMs: 300 };
  const client = new PortalClient(endpoints, () => 'p');
  const signal = new AbortController().signal;

  await t.rejects(client.call('share', '000.00.15.H49', { service: 'TraCuuHoSo', mahoso: 'X' }, signal), { message: /^TraCuuHoSo: portal answered HTTP 503/ }, 'a 503 names the call');
  hang = true;
  const slow = await client.call('integration', '000.00.15.H49', { service: 'DongBoHoSoMC', isUpdating: 'False', data: [] }, signal).catch((e: Error) => e);
  t.match((slow as Error).message, /^DongBoHoSoMC: the call to portal .* did not complete within 300 ms$/, 'a timeout says so, with the call');
  t.ok(isConnectionFailure((slow as Error).message), 'the runner still counts it against the destination circuit, as before');
  t.notMatch((slow as Error).message, /unreachable/, 'a portal that took the call is not called unreachable');
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  const freed = (spare.address() as AddressInfo).port;
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  const closed = new PortalClient({ ...endpoints, portalUrl: `http://127.0.0.1:${freed}` }, () => 'p');
  await t.rejects(closed.call('share', '000.00.15.H49', { service: 'TraCuuHoSo', mahoso: 'X' }, signal), { message: /^login: portal .* unreachable: ECONNREFUSED$/ }, 'a refused connection is unreachable, naming the call');
});
