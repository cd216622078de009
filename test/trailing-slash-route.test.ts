// A client that joins its base URL with 'v1/messages/' (Django-style URLs end in '/') sent
// POST /v1/messages/ and read only "No route POST /v1/messages/"; GET /v1/messages/{id}/ was
// told to percent-encode a "/" in the id, which had none. The 404 now names the route without
// the trailing slash.
import t from 'tap';
import { RouteMethods } from '../services/platform/route-methods.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('RouteMethods finds the route a path with a trailing slash was meant for', async (t) => {
  const routes = new RouteMethods();
  routes.add('/v1/messages', 'POST');
  routes.add('/v1/messages/:id', ['GET', 'HEAD']);
  t.equal(routes.withoutTrailingSlash('/v1/messages/', 'POST'), '/v1/messages');
  t.equal(routes.withoutTrailingSlash('/v1/messages/01a2//', 'GET'), '/v1/messages/01a2');
  t.equal(routes.withoutTrailingSlash('/v1/messages/', 'DELETE'), null, 'only a route taking the method');
  t.equal(routes.withoutTrailingSlash('/v1/messages', 'POST'), null, 'no trailing slash');
  t.equal(routes.withoutTrailingSlash('/', 'GET'), null);
});

t.test('the gateway names the route without the trailing slash', async (t) => {
  const bus = await startTestBus(t, { name: 'trailing-slash', runner: false });
  const headers = { authorization: `Bearer ${await bus.client('so-tttt-qlvb').accessToken()}`, 'content-type': 'application/json' };
  const post = await fetch(`${bus.gateway.url}/v1/messages/`, { method: 'POST', headers, body: '{}' });
  t.equal(post.status, 404);
  t.match(await post.json(), { code: 'ROUTE_NOT_FOUND', detail: 'No route POST /v1/messages/: the route is POST /v1/messages, without the trailing "/"' });
  const get = await fetch(`${bus.gateway.url}/v1/messages/01a24b0f-ebf2-704e-afa6-a4db3fda4365/`, { headers });
  t.equal(get.status, 404);
  const detail = (await get.json()).detail as string;
  t.equal(detail, 'No route GET /v1/messages/01a24b0f-ebf2-704e-afa6-a4db3fda4365/: the route is GET /v1/messages/01a24b0f-ebf2-704e-afa6-a4db3fda4365, without the trailing "/"');
  t.notMatch(detail, /percent-encode/, 'not told to encode a "/" the id does not have');
});
