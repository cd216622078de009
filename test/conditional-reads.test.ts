// Conditional reads (RFC 9110 §13): an agency system polling a message's status, its inbox or
// the directory sends the ETag of its last answer in If-None-Match and is told 304 Not Modified,
// with no body, until the answer changes. Every GET answered the whole body each time, whether
// anything had changed or not.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startRunner } from '../services/runner/runner-service.js';
import { entityTagOf, noneMatchNames } from '../services/platform/conditional-get.js';
import { startTestBus, eventually } from './helpers/test-bus.js';

t.test('If-None-Match names the current tag: weak comparison, lists, *', async (t) => {
  const tag = entityTagOf('{"a":1}');
  t.match(tag, /^"[A-Za-z0-9_-]{22}"$/, 'a quoted 128-bit digest');
  t.equal(entityTagOf(Buffer.from('{"a":1}')), tag, 'bytes or text, the same tag');
  t.not(entityTagOf('{"a":2}'), tag, 'other bytes, another tag');
  t.ok(noneMatchNames(tag, tag), 'the tag itself');
  t.ok(noneMatchNames(`W/${tag}`, tag), 'its weak form (If-None-Match compares weakly)');
  t.ok(noneMatchNames(`"other", ${tag}`, tag), 'one of a list');
  t.ok(noneMatchNames(' * ', tag), '* names any current answer');
  t.notOk(noneMatchNames('"other"', tag), 'another tag');
  t.notOk(noneMatchNames(tag.slice(1, -1), tag), 'the tag unquoted is no entity-tag');
  t.notOk(noneMatchNames('', tag), 'an empty field');
});

t.test('a message status, the directory and an attachment answer 304 while they have not changed', async (t) => {
  const bus = await startTestBus(t, { name: 'conditional-reads', runner: false });
  const sender = bus.client('so-tttt-qlvb');
  const token = await sender.accessToken();
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${bus.gateway.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...headers } });

  const sent = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Thông báo', body: 'Nội dung' } });
  t.equal(sent.status, 202);
  t.equal(sent.headers.get('etag'), null, 'a POST\'s answer has no ETag: only the reads that opt in');
  const path = `/v1/messages/${sent.body.id}`;
  const first = await get(path);
  const firstBody = await first.text();
  t.equal(first.status, 200);
  t.match(JSON.parse(firstBody), { status: 'accepted' });
  const etag = first.headers.get('etag')!;
  t.equal(etag, entityTagOf(firstBody), 'the ETag is the digest of the answer\'s bytes');

  const unchanged = await get(path, { 'if-none-match': etag });
  t.equal(unchanged.status, 304, 'the same status: 304');
  t.equal(await unchanged.text(), '', 'with no body');
  t.equal(unchanged.headers.get('etag'), etag, 'naming the tag');
  t.equal(unchanged.headers.get('content-type'), null, 'and no content type of a body it does not have');
  t.equal(unchanged.headers.get('cache-control'), 'no-store', 'still not for caches: the tag is the client\'s to keep');
  t.ok(unchanged.headers.get('x-ratelimit-remaining'), 'counted like any read');
  t.equal((await get(path, { 'if-none-match': `W/${etag}` })).status, 304, 'the weak form too');
  t.equal(unchanged.headers.get('content-length'), null, 'nor a length');
  const head = await get(path, { 'if-none-match': etag }, 'HEAD');
  t.equal(head.status, 304, 'HEAD too');
  t.ok([null, String(Buffer.byteLength(firstBody))].includes(head.headers.get('content-length')), 'its Content-Length, if any, the 200\'s (RFC 9110 §8.6)');
  const other = await get(path, { 'if-none-match': '"something-else"' });
  t.equal(other.status, 200, 'another tag: the whole answer');
  t.equal(await other.text(), firstBody);

  // The status changes once a runner delivers the message: the old tag no longer matches.
  const runner = await startRunner(bus.config, { connectors: ['relay'] });
  t.teardown(() => runner.stop());
  await eventually(async () => ((await sender.status(sent.body.id as string)).body.status === 'delivered' ? true : null), 30_000);
  const changed = await get(path, { 'if-none-match': etag });
  t.equal(changed.status, 200, 'after the delivery the old tag gets the new answer');
  t.match(await changed.json(), { status: 'delivered' });
  const newTag = changed.headers.get('etag')!;
  t.not(newTag, etag, 'under a new tag');
  t.equal((await get(path, { 'if-none-match': newTag })).status, 304, 'which is then the current one');

  // A refusal is never conditional: a stranger's If-None-Match learns nothing from a 304.
  const stranger = bus.client('xa-hoaphuoc-qlvb');
  const refused = await fetch(`${bus.gateway.url}${path}`, { headers: { authorization: `Bearer ${await stranger.accessToken()}`, 'if-none-match': '*' } });
  t.equal(refused.status, 404, 'a message the caller may not see is 404 whatever If-None-Match says');
  t.equal(refused.headers.get('etag'), null, 'with no ETag');

  const members = await get('/v1/members');
  await members.arrayBuffer();
  t.equal((await get('/v1/members', { 'if-none-match': members.headers.get('etag')! })).status, 304, 'the member directory');
  const schema = await get('/v1/schemas/notice.send');
  await schema.arrayBuffer();
  t.equal((await get('/v1/schemas/notice.send', { 'if-none-match': schema.headers.get('etag')! })).status, 304, 'a payload schema');

  // An attachment's tag is its SHA-256: known without reading its bytes.
  const bytes = Buffer.from('công văn đính kèm');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const upload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  t.equal(upload.status, 201);
  const download = await get(`/v1/attachments/${sha256}`);
  t.same(Buffer.from(await download.arrayBuffer()), bytes);
  t.equal(download.headers.get('etag'), `"${sha256}"`, 'the attachment\'s tag is its digest');
  const held = await get(`/v1/attachments/${sha256}`, { 'if-none-match': `"${sha256}"` });
  t.equal(held.status, 304, 'a client holding the bytes is told so');
  t.equal(held.headers.get('repr-digest'), null, 'with no digest of a body it does not carry');

  // POST is never conditional, and the document says which reads are.
  const openapi = await (await fetch(`${bus.gateway.url}/docs/json`)).json();
  const status = openapi.paths['/v1/messages/{id}'].get;
  t.ok(status.parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'If-None-Match'), 'GET /v1/messages/{id} documents If-None-Match');
  t.match(status.responses['200'].headers.ETag, { required: true }, 'its 200 the ETag');
  t.match(status.responses['304'], { headers: { ETag: { required: true }, 'x-ratelimit-remaining': { required: true } } }, 'its 304 the ETag and the rate limit it was counted by');
  t.notOk(openapi.paths['/v1/messages'].post.responses['304'], 'POST /v1/messages has no 304');
  for (const read of ['/v1/members', '/v1/services', '/v1/schemas', '/v1/schemas/{type}', '/v1/inbox', '/v1/inbox/{id}', '/v1/documents/{documentId}', '/v1/attachments/{sha256}', '/.well-known/jwks.json']) {
    t.ok(openapi.paths[read].get.responses['304'], `GET ${read} documents its 304`);
  }
});
