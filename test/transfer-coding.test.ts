// A body sent with a transfer coding other than chunked (`Transfer-Encoding: gzip, chunked`):
// Node's parser undoes the chunking only, so the gateway used to take the gzip bytes for the
// body (400 "not UTF-8", sending the caller looking at its JSON) or, when the sender declared
// gzip without compressing, accept the body as if nothing had been declared. RFC 9112 §6.1: a
// transfer coding the server does not understand is a 501, and nothing is kept.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { rawExchange } from './helpers/raw-http.js';
import { startTestBus } from './helpers/test-bus.js';

/** What came back within the wait. */
async function exchange(port: number, bytes: Buffer): Promise<string> {
  return (await rawExchange(port, bytes, 1500)).answer;
}

const chunked = (body: Buffer) => Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);

t.test('a transfer coding other than chunked is 501, nothing accepted', async (t) => {
  const bus = await startTestBus(t, { name: 'transfer-coding', runner: false });
  const port = Number(new URL(bus.gateway.url).port);
  const token = await bus.client('so-tttt-qlvb').accessToken();
  const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp giao ban', body: 'Nội dung' } };
  const head = (key: string, transferEncoding: string) =>
    Buffer.from(`POST /v1/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nIdempotency-Key: ${key}\r\nTransfer-Encoding: ${transferEncoding}\r\n\r\n`);
  const json = Buffer.from(JSON.stringify(notice));

  for (const [label, key, coding, body] of [
    ['gzip-compressed body', 'te-gzip-1', 'gzip, chunked', gzipSync(json)],
    ['gzip declared, body sent plain', 'te-gzip-2', 'gzip, chunked', json],
    ['deflate', 'te-deflate', 'deflate, chunked', json],
  ] as const) {
    const answer = await exchange(port, Buffer.concat([head(key, coding), chunked(body)]));
    t.match(answer, /^HTTP\/1\.1 501 /, `${label}: 501`);
    t.match(answer, /content-type: application\/problem\+json/i);
    t.match(answer, /"code":"TRANSFER_CODING_NOT_IMPLEMENTED"/);
    t.match(answer, /"detail":"Transfer-Encoding [a-z]+, chunked is not accepted/);
    // Had the refused request been kept, its key would now name it: another body with the same
    // key would be a 409. A 202 shows nothing was accepted or reserved.
    const other = await fetch(`${bus.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ ...notice, payload: { ...notice.payload, body: `${label}, sent again` } }),
    });
    t.equal(other.status, 202, `${label}: the key was not taken`);
  }

  const plain = await exchange(port, Buffer.concat([head('te-chunked', 'chunked'), chunked(json)]));
  t.match(plain, /^HTTP\/1\.1 202 /, 'chunked alone is accepted');
  const upper = await exchange(port, Buffer.concat([head('te-chunked-upper', 'Chunked'), chunked(json)]));
  t.match(upper, /^HTTP\/1\.1 202 /, 'the coding name is case-insensitive');

  const documented = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as { paths: Record<string, { post: { responses: Record<string, unknown> } }> };
  t.ok(documented.paths['/v1/messages'].post.responses['501'], 'the OpenAPI document lists the 501 on operations with a body');
});
