// What an agency system is told when a submission does not match the schema where the schema
// takes one of two shapes: `to` is one recipient (an object) or several (a list). A single
// recipient with a malformed member code was answered "to.member must match pattern …; to must
// be array; to must match exactly one schema in oneOf", a list with one bad entry "to must be
// object; …": the caller was told to send the shape it had not chosen. Only what is wrong in the
// shape it sent is named now; a `to` that is neither shape still says which are taken.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a refusal names what is wrong in the shape sent, not the shapes not sent', async (t) => {
  const bus = await startTestBus(t, { name: 'validation-branches', runner: false });
  const client = bus.client('so-tttt-qlvb');
  const payload = { subject: 'Thông báo', body: 'Kính gửi' };
  const send = async (to: unknown) => {
    const r = await client.send({ type: 'notice.send', to, payload } as never);
    t.equal(r.status, 400, `${JSON.stringify(to)}: 400`);
    t.equal(r.body.code, 'VALIDATION_FAILED');
    return { detail: r.body.detail as string, errors: r.body.errors as { field: string; message: string }[] };
  };

  const one = await send({ member: '000.00.15.h49', service: 'notice' });
  t.same(one.errors.map((e) => e.field), ['to.member'], 'one recipient, its code malformed: that field alone');
  t.notMatch(one.detail, /must be array|oneOf/, `no word of lists or schema branches (${one.detail})`);

  const misspelt = await send({ member: '000.00.15.H49', servce: 'notice' });
  t.same(misspelt.errors, [{ field: 'to.servce', message: 'unknown property "servce"' }], 'a misspelt member of the recipient is named');

  const list = await send([{ member: '000.00.15.H49' }, { member: 'x y' }]);
  t.same(list.errors.map((e) => e.field), ['to[1].member'], 'a list with one bad entry: that entry');
  t.notMatch(list.detail, /must be object|oneOf/, `no word of the single-recipient shape (${list.detail})`);

  const tooMany = await send(Array.from({ length: 101 }, (_, i) => ({ member: `H49.${i + 1}` })));
  t.same(tooMany.errors.map((e) => e.field), ['to'], 'a list too long: the list');
  t.match(tooMany.detail, /more than 100 items/);

  const neither = await send(5);
  t.match(neither.detail, /to must be object/, 'neither shape: both are named');
  t.match(neither.detail, /to must be array/);
});

// An integrator's slips in a code, a type or a paging value were answered with the regular
// expression ("to.member must match pattern \"^[A-Z0-9]+(\\.[A-Z0-9]+)*$\""): the refusal now
// says what the value must be, with an example.
t.test('a value of the wrong form is refused saying what it must be, not with a regular expression', async (t) => {
  const bus = await startTestBus(t, { name: 'validation-patterns', runner: false });
  const client = bus.client('so-tttt-qlvb');
  const payload = { subject: 'Thông báo', body: 'Kính gửi' };

  const lowerCase = await client.send({ type: 'notice.send', to: { member: '000.00.15.h49' }, payload } as never);
  t.equal(lowerCase.status, 400);
  t.match(lowerCase.body.errors, [{ field: 'to.member', message: /^must be an electronic agency code: .* e\.g\. 000\.00\.15\.H49/ }]);
  t.notMatch(lowerCase.body.detail, /pattern|\^/, `no regular expression (${lowerCase.body.detail})`);

  const spelledType = await client.send({ type: 'Notice.Send', to: { member: '000.00.15.H49' }, payload } as never);
  t.equal(spelledType.status, 400);
  t.match(spelledType.body.errors, [{ field: 'type', message: /^must be a message type: lower-case words joined by dots, e\.g\. notice\.send/ }]);

  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const inbox = async (query: string) => {
    const res = await fetch(`${bus.gateway.url}/v1/inbox?${query}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 400, query);
    const body = await res.json();
    t.equal(body.code, 'VALIDATION_FAILED');
    t.notMatch(body.detail, /pattern|\^/, `no regular expression (${body.detail})`);
    return body.errors as { field: string; message: string }[];
  };
  t.match(await inbox('type=edoc'), [{ field: 'querystring.type', message: 'must be a message type (edoc.status) or a family of them (edoc.*)' }]);
  t.match(await inbox('limit=ten'), [{ field: 'querystring.limit', message: /whole number/ }]);
  t.match(await inbox('after=abc'), [{ field: 'querystring.after', message: /the `next` value of the previous page/ }]);
  t.same(await inbox('limit=10&limit=20'), [{ field: 'querystring.limit', message: 'must be given once' }], 'a parameter sent twice: "must be string" did not say so');
  // A parameter of a few values sent twice was told "must be one of …", which each value was.
  for (const path of ['/v1/inbox/01a24316-cd60-729d-a542-03fad4f75636?format=json&format=edxml', '/.well-known/jwks.json?purpose=token&purpose=record', '/.well-known/jwks.json?include=superseded&include=superseded']) {
    const res = await fetch(`${bus.gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 400, path);
    t.same((await res.json()).errors, [{ field: `querystring.${/\?(\w+)=/.exec(path)![1]}`, message: 'must be given once' }], `${path}: said to be given once`);
  }

  // The directory's lists take no filter: one that looks like it would (?member=, ?level=) was
  // ignored and the whole list answered as if filtered.
  for (const [path, parameter] of [['/v1/services?member=000.00.15.H49', 'member'], ['/v1/members?level=province', 'level'], ['/v1/schemas?type=edoc.send', 'type']]) {
    const res = await fetch(`${bus.gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 400, `${path}: not the unfiltered list`);
    t.match(await res.json(), { code: 'VALIDATION_FAILED', errors: [{ field: `querystring.${parameter}`, message: `unknown property "${parameter}"` }] });
  }
  t.equal((await fetch(`${bus.gateway.url}/v1/services`, { headers: { authorization: `Bearer ${token}` } })).status, 200, 'without a query, the list');

  const digest = await fetch(`${bus.gateway.url}/v1/attachments/ABC`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(digest.status, 400);
  // Either case in the path (GET /v1/attachments/{sha256}): the meaning says so.
  t.match((await digest.json()).errors, [{ field: 'params.sha256', message: 'must be a SHA-256 digest: 64 hexadecimal digits' }]);
});
