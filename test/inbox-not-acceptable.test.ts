// GET /v1/inbox/{id} with an Accept header that names only types the route cannot produce
// (`application/soap+xml`, `text/html`) was answered with JSON, which the client had not asked
// for: now 406 NOT_ACCEPTABLE, problem+json naming the types the item comes in. A header that
// leaves one of them open (`*/*`, `application/*`, or refusing only XML: `application/xml;q=0`)
// is answered as before; one that refuses every type the item comes in (`*/*;q=0`) is a 406 too, a
// type given q=0 is never the answer's, and edXML comes as `text/xml` to a client that asks for it
// (it came as application/xml, which such a client may have refused). And GET /v1/inbox with a `limit` out of range was refused without the
// range ("must be a whole number from 1" for 1000, "at most 100" for 500): both name 1 to 100.
import t from 'tap';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { acceptAllows, acceptsNoneOf, preferredMediaType } from '../services/platform/accept-header.js';

t.test('acceptsNoneOf, unit', async (t) => {
  const types = ['application/json', 'application/xml', 'text/xml'];
  t.equal(acceptsNoneOf(undefined, types), false, 'no header: anything goes');
  t.equal(acceptsNoneOf('', types), false);
  t.equal(acceptsNoneOf('application/soap+xml', types), true);
  t.equal(acceptsNoneOf('text/html, application/soap+xml;q=0.5', types), true);
  t.equal(acceptsNoneOf('application/soap+xml, */*;q=0.1', types), false, '*/* leaves them open');
  t.equal(acceptsNoneOf('application/*', types), false);
  t.equal(acceptsNoneOf('application/xml;q=0', types), false, 'refusing XML alone asks for nothing: the other format is served');
  t.equal(acceptsNoneOf('application/json;q=0, application/xml;q=0, text/html', types), true);
  t.equal(acceptsNoneOf('*/*;q=0', types), true, 'refusing everything');
  t.equal(acceptsNoneOf('application/json;q=0, application/xml;q=0, text/xml;q=0', types), true, 'refusing each of them');
  t.equal(acceptsNoneOf('application/json;q=0', ['application/json']), true, 'refusing the only type there is');
  t.equal(acceptsNoneOf('application/json;q=0, application/xml;q=0', types), false, 'text/xml is still open');
});

t.test('acceptAllows and preferredMediaType, unit', async (t) => {
  t.equal(acceptAllows(undefined, 'application/json'), true);
  t.equal(acceptAllows('', 'application/json'), true, 'an empty header is no header');
  t.equal(acceptAllows('application/json;q=0', 'application/json'), false, 'q=0 is "not acceptable"');
  t.equal(acceptAllows('application/json;q=0', 'application/xml'), true, 'a header that only refuses leaves the rest open');
  t.equal(acceptAllows('text/xml', 'application/xml'), false, 'a header that asks for something leaves closed what it does not cover');
  t.equal(acceptAllows('application/*;q=0, application/json', 'application/json'), true, 'the most specific range counts');
  t.equal(acceptAllows('*/*;q=0', 'text/xml'), false);
  const xml = ['application/xml', 'text/xml'];
  t.equal(preferredMediaType(undefined, xml), 'application/xml');
  t.equal(preferredMediaType('text/xml', xml), 'text/xml');
  t.equal(preferredMediaType('application/xml;q=0, text/xml', xml), 'text/xml');
  t.equal(preferredMediaType('text/xml;q=0.5, application/xml', xml), 'application/xml');
  t.equal(preferredMediaType('text/xml, application/xml', xml), 'application/xml', 'a tie: the first');
  t.equal(preferredMediaType('application/json', xml), 'application/xml', 'none let through: the first (the format was chosen otherwise)');
});

t.test('an inbox item asked for in a type it does not come in; a page size out of range', async (t) => {
  const bus = await startEdocBus(t, { name: 'inbox406' });
  const office = bus.client('vp-ubnd-qlvb');
  const documentId = '000.00.12.H49,2026/05/03,77/QĐ-STTTT';
  const sent = await bus.client('so-tttt-qlvb').send({
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId, subject: 'Định dạng không hỗ trợ' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const token = await office.accessToken();
  const get = (path: string, accept?: string) => fetch(`${bus.gateway.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...(accept === undefined ? {} : { accept }) } });
  const item = `/v1/inbox/${sent.body.id}`;
  await eventually(async () => ((await get(item)).status === 200 ? true : null), 60_000);

  for (const accept of ['application/soap+xml', 'text/html, application/pdf;q=0.5']) {
    const res = await get(item, accept);
    const body = await res.json();
    t.equal(res.status, 406, `Accept: ${accept}`);
    t.match(res.headers.get('content-type'), /^application\/problem\+json/);
    t.match(body, { code: 'NOT_ACCEPTABLE', status: 406, acceptable: ['application/json', 'application/xml', 'text/xml'] });
    t.match(body.detail, /application\/json.*application\/xml/);
  }
  for (const accept of ['*/*;q=0', 'application/json;q=0, application/xml;q=0, text/xml;q=0']) {
    const res = await get(item, accept);
    t.equal(res.status, 406, `Accept: ${accept} refuses every type the item comes in`);
    t.match(await res.json(), { code: 'NOT_ACCEPTABLE' });
  }
  // The system's registry setting is JSON: a header refusing JSON gets the edXML, and edXML comes
  // as the XML type the header asks for.
  for (const [accept, type] of [
    ['application/soap+xml, */*;q=0.1', /^application\/json/],
    ['application/xml;q=0', /^application\/json/],
    ['text/xml', /^text\/xml; charset=utf-8$/],
    ['application/xml;q=0, text/xml', /^text\/xml/],
    ['application/json;q=0', /^application\/xml/],
    ['application/json;q=0, application/xml;q=0', /^text\/xml/],
  ] as const) {
    const res = await get(item, accept);
    t.equal(res.status, 200, `Accept: ${accept}`);
    t.match(res.headers.get('content-type'), type);
    await res.arrayBuffer();
  }

  for (const limit of ['1000', '500', '0']) {
    const res = await get(`/v1/inbox?limit=${limit}`);
    const body = await res.json();
    t.equal(res.status, 400, `limit=${limit}`);
    t.match(body, { code: 'VALIDATION_FAILED', errors: [{ field: 'querystring.limit', message: /from 1 to 100/ }] }, `limit=${limit} names the range`);
  }
  t.equal((await get('/v1/inbox?limit=100')).status, 200, 'the maximum itself');
  // The list asked for with a trailing '/' (the item route with an empty id): the list's route is named.
  const slashed = await get('/v1/inbox/');
  t.equal(slashed.status, 404);
  t.match(await slashed.json(), { code: 'ROUTE_NOT_FOUND', detail: 'No route GET /v1/inbox/: the route is GET /v1/inbox, without the trailing "/"' });

  // A last page that is exactly full says there is no next one (it said `next`, and the client
  // fetched an empty page to learn it).
  const second = await bus.client('so-tttt-qlvb').send({
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId: '000.00.12.H49,2026/05/03,78/QĐ-STTTT', subject: 'Trang vừa đủ' } },
  });
  t.equal(second.status, 202, JSON.stringify(second.body));
  await eventually(async () => ((await get(`/v1/inbox/${second.body.id}`)).status === 200 ? true : null), 60_000);
  const all = (await (await get('/v1/inbox?limit=100')).json()) as { items: { id: string }[]; next: number | null };
  const count = all.items.length;
  t.ok(count >= 2, `${count} items waiting`);
  t.equal(all.next, null);
  const exact = (await (await get(`/v1/inbox?limit=${count}`)).json()) as { items: unknown[]; next: number | null };
  t.equal(exact.items.length, count);
  t.equal(exact.next, null, 'a page holding exactly the rest has no next cursor');
  const short = (await (await get(`/v1/inbox?limit=${count - 1}`)).json()) as { items: unknown[]; next: number | null };
  t.equal(short.items.length, count - 1);
  t.type(short.next, 'number', 'a page with more after it names the next cursor');
  const rest = (await (await get(`/v1/inbox?limit=${count - 1}&after=${short.next}`)).json()) as { items: unknown[]; next: number | null };
  t.same([rest.items.length, rest.next], [1, null], 'and that page is the last');
});
