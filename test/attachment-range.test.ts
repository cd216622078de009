// GET /v1/attachments/{sha256} served the whole file whatever Range asked for, and said nothing
// of ranges: a commune's system on a slow link that lost a 20 MB download at 19 MB started again
// from the first byte. It now answers one byte range (RFC 9110 §14): 206 with Content-Range, from
// the bytes already checked against their SHA-256; If-Range with the attachment's ETag resumes
// only while it is the same file (it always is: the tag is the digest); a range past the end is
// 416 problem+json with `Content-Range: bytes */<size>`. Several ranges, another unit or a
// malformed one are ignored (the whole file, 200), as §14.2 allows; every 200 says
// `Accept-Ranges: bytes`.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';

const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
const sha256 = createHash('sha256').update(bytes).digest('hex');

t.test('attachment downloads answer a byte range', async (t) => {
  const bus = await startTestBus(t, { name: 'attachment-range', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const upload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  t.equal(upload.status, 201);
  const get = async (headers: Record<string, string> = {}, method = 'GET') => {
    const res = await fetch(`${bus.gateway.url}/v1/attachments/${sha256}`, { method, headers: { authorization: `Bearer ${token}`, ...headers } });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };

  const whole = await get();
  t.equal(whole.status, 200);
  t.equal(whole.headers.get('accept-ranges'), 'bytes', 'a 200 says ranges are taken');
  t.ok(whole.body.equals(bytes));

  for (const [range, from, to] of [['bytes=0-99', 0, 99], ['bytes=900-', 900, 999], ['bytes=-10', 990, 999], ['bytes=990-5000', 990, 999], ['bytes=0-0', 0, 0]] as const) {
    const part = await get({ range });
    t.equal(part.status, 206, `${range}: 206`);
    t.equal(part.headers.get('content-range'), `bytes ${from}-${to}/1000`);
    t.equal(part.headers.get('content-length'), String(to - from + 1));
    t.equal(part.headers.get('etag'), `"${sha256}"`, 'the ETag of the whole file');
    t.equal(part.headers.get('repr-digest'), `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`, 'the digest of the whole file, to check once it is put together');
    t.ok(part.body.equals(bytes.subarray(from, to + 1)), `${range}: those bytes`);
  }

  const resumed = await get({ range: 'bytes=500-', 'if-range': `"${sha256}"` });
  t.equal(resumed.status, 206, 'If-Range naming the current ETag: the range');
  const otherFile = await get({ range: 'bytes=500-', 'if-range': '"another"' });
  t.equal(otherFile.status, 200, 'If-Range naming another tag: the whole file');
  t.equal(otherFile.body.length, 1000);
  const byDate = await get({ range: 'bytes=500-', 'if-range': 'Mon, 07 Dec 2026 10:00:00 GMT' });
  t.equal(byDate.status, 200, 'If-Range with a date (there is no Last-Modified): the whole file');

  for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
    const past = await get({ range });
    t.equal(past.status, 416, `${range}: 416`);
    t.equal(past.headers.get('content-range'), 'bytes */1000', 'names the size');
    t.match(past.headers.get('content-type'), /^application\/problem\+json/);
    t.match(JSON.parse(past.body.toString()), { status: 416, code: 'RANGE_NOT_SATISFIABLE', detail: /1000 bytes/ });
  }

  for (const range of ['bytes=0-9,20-29', 'items=0-9', 'bytes=9-0', 'bytes=abc']) {
    const ignored = await get({ range });
    t.equal(ignored.status, 200, `${range}: ignored, the whole file`);
    t.equal(ignored.body.length, 1000);
  }

  const held = await get({ range: 'bytes=0-9', 'if-none-match': `"${sha256}"` });
  t.equal(held.status, 304, 'If-None-Match is judged before Range');

  const head = await get({ range: 'bytes=0-9' }, 'HEAD');
  t.equal(head.status, 206);
  t.equal(head.headers.get('content-range'), 'bytes 0-9/1000');

  const stranger = await bus.client('xa-hoaphuoc-qlvb').accessToken();
  const refused = await fetch(`${bus.gateway.url}/v1/attachments/${sha256}`, { headers: { authorization: `Bearer ${stranger}`, range: 'bytes=0-9' } });
  t.equal(refused.status, 404, 'a range asks nothing of the access check: a non-party is refused as before');

  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { description: string; headers?: Record<string, unknown> }> }>> };
  const responses = doc.paths['/v1/attachments/{sha256}'].get.responses;
  t.ok(responses['206']?.headers?.['Content-Range'], 'the 206 is documented with its Content-Range');
  t.match(responses['416']?.description, /RANGE_NOT_SATISFIABLE/, 'the 416 is documented with its code');
});
