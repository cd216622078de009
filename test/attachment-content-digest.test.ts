// POST /v1/attachments checks a Content-Digest (RFC 9530) against the body before anything is
// stored: a digest that is not the body's, one of an algorithm the bus does not check alone, or
// one that is no digest is refused with 400 problem+json and a code of its own, and the store
// stays as it was. It ignored the header, and stored bytes the sender had not digested.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';

const digest = (algorithm: 'sha256' | 'sha512', bytes: Buffer) => createHash(algorithm).update(bytes).digest('base64');

t.test('an upload is checked against its Content-Digest and stored only when it matches', async (t) => {
  const bus = await startTestBus(t, { name: 'content-digest', runner: false });
  const token = await bus.client('so-tp-qlvb').accessToken();
  const upload = (bytes: Buffer, contentDigest?: string) =>
    fetch(`${bus.gateway.url}/v1/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...(contentDigest === undefined ? {} : { 'content-digest': contentDigest }) },
      body: new Uint8Array(bytes),
    });
  const stored = async () => Number((await bus.db.query('SELECT count(*) AS n FROM attachment_blobs')).rows[0].n);
  const refused = async (bytes: Buffer, contentDigest: string, code: string, why: string) => {
    const before = await stored();
    const res = await upload(bytes, contentDigest);
    t.equal(res.status, 400, `${why}: 400`);
    t.match(res.headers.get('content-type'), /^application\/problem\+json/, `${why}: problem+json`);
    const body = await res.json();
    t.match(body, { code, errors: [{ field: 'headers.content-digest' }] }, `${why}: ${code}`);
    t.equal(await stored(), before, `${why}: nothing stored`);
    return { res, body };
  };

  const bytes = Buffer.from('%PDF-1.4 bản vẽ thiết kế');
  const other = Buffer.from('%PDF-1.4 another file');
  const mismatch = await refused(bytes, `sha-256=:${digest('sha256', other)}:`, 'CONTENT_DIGEST_MISMATCH', 'a sha-256 of other bytes');
  t.match(mismatch.body.detail, /sha-256 is sha-256=:.*:, not the Content-Digest sent/);
  await refused(bytes, `sha-512=:${digest('sha512', other)}:`, 'CONTENT_DIGEST_MISMATCH', 'a sha-512 of other bytes');
  await refused(bytes, `sha-256=:${digest('sha256', bytes)}:, sha-512=:${digest('sha512', other)}:`, 'CONTENT_DIGEST_MISMATCH', 'one of two digests wrong');
  const unsupported = await refused(bytes, 'md5=:rL0Y20zC+Fzt72VPzMSk2A==:', 'CONTENT_DIGEST_UNSUPPORTED', 'an algorithm the bus does not check alone');
  t.equal(unsupported.res.headers.get('want-content-digest'), 'sha-256=10, sha-512=5', 'Want-Content-Digest says what is checked');
  // A key that is a property of every JavaScript object is no algorithm the bus checks either.
  await refused(bytes, 'constructor=:rL0Y20zC+Fzt72VPzMSk2A==:', 'CONTENT_DIGEST_UNSUPPORTED', 'an inherited property name as the algorithm');
  await refused(bytes, `sha-256=${digest('sha256', bytes)}`, 'CONTENT_DIGEST_INVALID', 'a digest not written as a byte sequence');
  await refused(bytes, 'sha-256=:AAAA:', 'CONTENT_DIGEST_INVALID', 'a digest of the wrong length');
  await refused(bytes, 'SHA-256 whatever', 'CONTENT_DIGEST_INVALID', 'not a dictionary');

  const matching = await upload(bytes, `sha-256=:${digest('sha256', bytes)}:`);
  t.equal(matching.status, 201, 'a matching sha-256: stored');
  t.match(await matching.json(), { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  t.equal((await upload(other, `sha-512=:${digest('sha512', other)}:, md5=:rL0Y20zC+Fzt72VPzMSk2A==:`)).status, 201, 'a matching sha-512, an unchecked algorithm beside it ignored');
  t.equal((await upload(Buffer.from('no digest sent'))).status, 201, 'without Content-Digest, as before');
  // Hex is case-insensitive: the digest written upper-case (.NET's Convert.ToHexString) names the same bytes.
  const upper = await fetch(`${bus.gateway.url}/v1/attachments/${createHash('sha256').update(bytes).digest('hex').toUpperCase()}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(upper.status, 200, 'an upper-case sha256 in the path finds the attachment');
  t.same(Buffer.from(await upper.arrayBuffer()), bytes);

  const openapi = await (await fetch(`${bus.gateway.url}/docs/json`)).json();
  const operation = openapi.paths['/v1/attachments'].post;
  t.ok(operation.parameters.some((p: { in: string; name: string }) => p.in === 'header' && p.name === 'content-digest'), 'the OpenAPI document names the header');
  t.match(operation.description, /CONTENT_DIGEST_MISMATCH/, 'and the refusals');
  // The header the 400 carries was sent but not documented: a generated client had no field for it.
  t.match(operation.responses['400'].headers?.['Want-Content-Digest'], { schema: { type: 'string' } }, 'the 400 documents Want-Content-Digest');
  t.ok(operation.responses['400'].headers?.['WWW-Authenticate'], 'beside the Bearer challenge of a malformed Authorization header');
  t.match(operation.responses['400'].content, { 'application/problem+json': {} }, 'still a problem+json answer');
});
