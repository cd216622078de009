// Compact ES256 JWS on node:crypto (services/platform/es256.ts): the signature is converted
// between node's DER form and JWS's r || s by hand, so the conversion is checked against
// node:crypto's own P1363 output and against jose, including integers with leading zero bytes.
import t from 'tap';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { compactVerify, exportJWK, importJWK } from 'jose';
import { derToP1363, p1363ToDer, signCompact, signCompactBytes, verifyCompact, JwsError, UnknownKeyError } from '../services/platform/es256.js';
import { signDetached, verifyDetached } from '../services/platform/detached-jws.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

t.test('DER and P1363 convert both ways, as node:crypto encodes them', async (t) => {
  let shortIntegers = 0;
  let bad = 0;
  for (let i = 0; i < 400; i++) {
    const data = Buffer.from(`record ${i}`);
    const der = sign('sha256', data, privateKey);
    const p1363 = derToP1363(der);
    if (p1363.length !== 64) bad++;
    // node:crypto verifies the converted signature in P1363 form, and the round trip is exact.
    if (!verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, p1363)) bad++;
    if (!p1363ToDer(p1363).equals(der)) bad++;
    if (p1363[0] === 0 || p1363[32] === 0) shortIntegers++;
  }
  t.equal(bad, 0, `400 signatures convert, verify and round-trip (${shortIntegers} with an integer shorter than 32 bytes)`);

  // Fixed edge cases: r and s with leading zero bytes and with the high bit set.
  const edge = Buffer.alloc(64);
  edge[2] = 0x01; // r = 0x0001.. (two leading zero bytes)
  edge[32] = 0x80; // s has the high bit set: DER needs a 0x00 pad
  edge[63] = 0x01;
  t.same(derToP1363(p1363ToDer(edge)), edge, 'leading zeros and high bits survive the round trip');
  t.throws(() => derToP1363(Buffer.from('3006020101020101', 'hex').subarray(0, 5)), /not a DER ECDSA signature/);
});

t.test('a compact JWS signCompact makes verifies with jose and with verifyCompact', async (t) => {
  const jws = signCompact('{"a":1}', { alg: 'ES256', kid: 'k1', typ: 'test+jws' }, privateKey);
  const jwk = await exportJWK(publicKey);
  const { payload, protectedHeader } = await compactVerify(jws, await importJWK({ ...jwk, alg: 'ES256' }, 'ES256'));
  t.equal(Buffer.from(payload).toString(), '{"a":1}');
  t.equal(protectedHeader.kid, 'k1');
  t.equal(verifyCompact(jws, (kid) => (kid === 'k1' ? publicKey : undefined)).payload.toString(), '{"a":1}');

  const [h, p, s] = jws.split('.');
  const flipped = Buffer.from(s, 'base64url');
  flipped[10] ^= 1;
  t.throws(() => verifyCompact(`${h}.${p}.${flipped.toString('base64url')}`, () => publicKey), JwsError, 'a changed signature does not verify');
  t.throws(() => verifyCompact(`${h}.${Buffer.from('{"a":2}').toString('base64url')}.${s}`, () => publicKey), JwsError, 'a changed payload does not verify');
  t.throws(() => verifyCompact(jws, () => undefined), UnknownKeyError);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  t.throws(() => verifyCompact(jws, () => other), /does not verify/, 'another key does not verify it');
});

t.test('the JWS as bytes: the same compact JWS, for text and byte payloads of any size, and detached over a view', async (t) => {
  const key = await importJWK({ ...(await exportJWK(publicKey)), alg: 'ES256' }, 'ES256');
  const text = JSON.stringify({ subject: 'Công văn số 12/UBND', body: 'Nội dung '.repeat(12_000) });
  for (const [label, payload] of [['text', text], ['bytes', Buffer.from(text)], ['empty', '']] as const) {
    const bytes = signCompactBytes(payload, { alg: 'ES256', kid: 'k1', typ: 'test+jws', aud: '000.00.15.H49' }, privateKey);
    t.ok(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{86}$/.test(bytes.toString('latin1')), `${label}: three base64url parts, a 64-byte signature`);
    const { payload: verified, protectedHeader } = await compactVerify(bytes.toString('latin1'), key);
    t.equal(Buffer.from(verified).toString('utf8'), Buffer.from(payload).toString('utf8'), `${label}: jose verifies it and reads the payload`);
    t.equal(protectedHeader.aud, '000.00.15.H49');
  }
  // A view into a larger buffer (an offset and a length of its own) is signed as exactly its bytes.
  const whole = Buffer.from(`prefix-${text}-suffix`);
  const view = new Uint8Array(whole.buffer, whole.byteOffset + 7, Buffer.byteLength(text));
  const detached = signDetached(view, { kid: 'k1', keyObject: privateKey } as never, 'application/xml');
  t.match(detached, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{86}$/, 'detached: header..signature');
  t.same(await verifyDetached(Buffer.from(text), detached, async () => key), { contentType: 'application/xml' }, 'it verifies over the view\'s bytes');
  await t.rejects(verifyDetached(whole, detached, async () => key), 'and not over the buffer around it');
});
