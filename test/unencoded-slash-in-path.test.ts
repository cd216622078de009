// A DocumentId holds '/' (000.00.00.H49,2026/03/05,125/QĐ-UBND). Sent raw in
// GET /v1/documents/{documentId}, the path matched no route and the vendor read "No route GET
// /v1/documents/000.00.00.H49,2026/03/05,125/QĐ-UBND", which says the endpoint is missing. The
// 404 now names the route the path was meant for and how to write the value.
import t from 'tap';
import { RouteMethods } from '../services/platform/route-methods.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('RouteMethods finds the route a path with an unencoded slash was meant for', async (t) => {
  const routes = new RouteMethods();
  routes.add('/v1/documents/:documentId', ['GET', 'HEAD']);
  routes.add('/v1/inbox/:id/ack', 'POST');
  routes.add('/v1/documents', 'GET');
  t.equal(routes.withUnencodedSlash('/v1/documents/000.00.00.H49,2026/03/05,125/QD-UBND', 'GET'), '/v1/documents/:documentId');
  t.equal(routes.withUnencodedSlash('/v1/inbox/a/b/ack', 'POST'), '/v1/inbox/:id/ack');
  t.equal(routes.withUnencodedSlash('/v1/documents/000.00.00.H49,2026/03/05,125/QD-UBND', 'DELETE'), null, 'only a route taking the method');
  t.equal(routes.withUnencodedSlash('/v1/documents/one-segment', 'GET'), null, 'a path the route matches as it is');
  t.equal(routes.withUnencodedSlash('/v2/anything/else', 'GET'), null);
});

t.test('the gateway says to percent-encode a DocumentId in the path', async (t) => {
  const bus = await startTestBus(t, { name: 'unencoded-slash', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const raw = await fetch(`${bus.gateway.url}/v1/documents/000.00.00.H49,2026/03/05,125/QD-UBND`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(raw.status, 404);
  t.match(await raw.json(), { code: 'ROUTE_NOT_FOUND', detail: /GET \/v1\/documents\/:documentId takes each parameter as one path segment; percent-encode a "\/" in its value as %2F/ });
  const encoded = await fetch(`${bus.gateway.url}/v1/documents/${encodeURIComponent('000.00.00.H49,2026/03/05,125/QD-UBND')}`, { headers: { authorization: `Bearer ${token}` } });
  t.match(await encoded.json(), { code: 'DOCUMENT_NOT_FOUND' }, 'encoded, it reaches the route (a document nobody sent)');
  const nowhere = await fetch(`${bus.gateway.url}/v1/nothing/here`, { headers: { authorization: `Bearer ${token}` } });
  t.match(await nowhere.json(), { code: 'ROUTE_NOT_FOUND', detail: 'No route GET /v1/nothing/here' }, 'a path no route was meant for: as before');
});
