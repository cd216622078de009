// The payload JWE codec (services/platform/payload-jwe.ts): standard compact JWE with
// ECDH-ES+A256KW / A256GCM that jose decrypts, one key agreement per CEK session, and every
// tampered part, a wrong key or an unknown kid refused. Plus the key files: payload-encryption
// keys rotate with the earlier private keys kept, so records sealed before a rotation still open.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { compactDecrypt, CompactEncrypt, generalDecrypt } from 'jose';
import { PayloadOpener, PayloadSealer, PayloadDecryptionError, UnknownDecryptionKeyError, looksLikeCompactJwe, sealForRecipients } from '../services/platform/payload-jwe.js';
import { sealerFor, payloadOpener } from '../services/platform/payload-keyring.js';
import { ensureKeys, openDecryptionKeyring, privateKeyFile, rotateKeys } from '../services/platform/key-files.js';
import { PublicKeyset } from '../services/platform/public-keyset.js';
import { envelopeJsonBytes, PayloadSealing } from '../services/platform/sealed-payload.js';
import { createEnvelope, payloadDigest, payloadJson } from '../services/platform/envelope.js';
import { base64urlLength, writeBase64url } from '../services/platform/base64url-into.js';

function recipient(kid = 'r1') {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, publicKey, opener: new PayloadOpener((k) => (k === kid ? privateKey : undefined)) };
}

const part = (jwe: string, i: number) => jwe.split('.')[i];
const withPart = (jwe: string, i: number, value: string) => jwe.split('.').map((p, j) => (j === i ? value : p)).join('.');
const flip = (b64: string) => {
  const bytes = Buffer.from(b64, 'base64url');
  bytes[bytes.length - 1] ^= 1;
  return bytes.toString('base64url');
};

t.test('round trip; one key agreement per session; fresh IV per record', async (t) => {
  const r = recipient();
  const sealer = new PayloadSealer(() => ({ kid: r.kid, key: r.publicKey }));
  const messages = Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i, text: `Nguyễn Văn ${i}` }));
  const sealed = messages.map((m) => sealer.seal(m));
  t.equal(sealer.sessions, 1, 'one ECDH for 50 records');
  t.ok(sealed.every(looksLikeCompactJwe));
  t.same(sealed.map((s) => r.opener.open(s).toString('utf8')), messages, 'every record opens to its plaintext');
  t.equal(new Set(sealed.map((s) => part(s, 2))).size, 50, 'no IV repeats');
  t.equal(new Set(sealed.map((s) => part(s, 1))).size, 1, 'the session shares its wrapped key');
  const header = JSON.parse(Buffer.from(part(sealed[0], 0), 'base64url').toString()) as Record<string, unknown>;
  t.match(header, { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'r1', epk: { kty: 'EC', crv: 'P-256' } });
  t.notOk(sealed.some((s) => s.includes(Buffer.from('Nguyễn').toString('base64url'))), 'no plaintext in the output');

  let now = 0;
  const bounded = new PayloadSealer(() => ({ kid: r.kid, key: r.publicKey }), { maxRecords: 3, maxAgeMs: 1000, now: () => now });
  for (let i = 0; i < 7; i++) bounded.seal('x');
  t.equal(bounded.sessions, 3, 'a session covers at most maxRecords records');
  now += 1001;
  bounded.seal('x');
  t.equal(bounded.sessions, 4, 'and at most maxAgeMs');
});

t.test('a sealed envelope carries the very text its digest covers, serialised once', async (t) => {
  const r = recipient();
  const sealing = new PayloadSealing(new PayloadSealer(() => ({ kid: r.kid, key: r.publicKey })), r.opener);
  const data = { title: 'Công văn số 12', items: Array.from({ length: 50 }, (_, i) => ({ i, text: 'Nguyễn Văn A' })) };
  const envelope = createEnvelope({ type: 'notice', from: { member: 'a', system: 'a-sys' }, to: { member: 'b', service: 'svc' }, data });
  const stringify = JSON.stringify;
  const serialised: unknown[] = [];
  JSON.stringify = ((value: unknown, ...rest: []) => {
    serialised.push(value);
    return stringify(value, ...rest);
  }) as typeof JSON.stringify;
  let value: Buffer;
  try {
    value = sealing.sealedEnvelope(envelope);
  } finally {
    JSON.stringify = stringify;
  }
  t.notOk(serialised.includes(data), 'the payload is not stringified again for sealing');
  const sealed = JSON.parse(value.toString('utf8')) as { data: string; payloadDigest: string };
  const plaintext = r.opener.open(sealed.data);
  t.equal(payloadDigest(plaintext.toString('utf8')), envelope.payloadDigest, 'the sealed bytes are the digested bytes');
  t.equal(sealed.payloadDigest, 'sha-256=' + createHash('sha256').update(stringify(data)).digest('base64'));
  t.same(sealing.openEnvelope(sealed as never).data, data);
  t.same(JSON.parse(r.opener.open(sealing.seal({ other: 1 })).toString('utf8')), { other: 1 }, 'a payload createEnvelope never saw is serialised as before');
  const seen: unknown[] = [];
  JSON.stringify = ((value: unknown, ...rest: []) => {
    seen.push(value);
    return stringify(value, ...rest);
  }) as typeof JSON.stringify;
  try {
    payloadJson(data);
  } finally {
    JSON.stringify = stringify;
  }
  t.ok(seen.includes(data), 'the digested bytes are not held once the record is sealed (asked again, the payload is serialised again)');
  const again = JSON.parse(sealing.sealedEnvelope(envelope).toString('utf8')) as { data: string };
  t.equal(payloadDigest(r.opener.open(again.data)), envelope.payloadDigest, 'sealed again, the record still carries the digested bytes');
});

t.test('a sealed envelope\'s bytes are exactly the JSON of the envelope with its JWE as data', async (t) => {
  const parts = ['eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9', 'c2Vzc2lvbi1rZXk', 'aXYtOTYtYml0cw', 'Y2lwaGVydGV4dA'.repeat(5000), 'dGFnLTEyOC1iaXRz'] as const;
  const base = createEnvelope({ type: 'notice', from: { member: '000.00.01.H49', system: 'so-tttt' }, to: { member: 'b', service: 'svc' }, data: { x: 1 } });
  const envelopes = {
    'as the gateway makes it': base,
    'text to escape and non-ASCII text': { ...base, correlationId: 'Hồ sơ "số 12" \\ dòng\nmới \u2028 kết thúc' },
    'without optional members': { ...base, correlationId: undefined },
    'data not last': (({ data, ...members }) => ({ data, ...members }))(base),
  };
  for (const [label, envelope] of Object.entries(envelopes)) {
    const expected = Buffer.from(JSON.stringify({ ...envelope, data: parts.join('.') }));
    t.ok(envelopeJsonBytes(envelope as never, parts).equals(expected), label);
  }
});

t.test('a ciphertext given as bytes is written as its base64url text, whatever its length', async (t) => {
  const envelope = createEnvelope({ type: 'notice', from: { member: '000.00.01.H49', system: 'so-tttt' }, to: { member: 'b', service: 'svc' }, data: { x: 1 } });
  // Around the encoder's 48 KiB slices and each remainder of a 3-byte group.
  for (const length of [0, 1, 2, 3, 4, 49_151, 49_152, 49_153, 98_305, 102_400, 102_401, 250_000]) {
    const ciphertext = randomBytes(length);
    const parts = ['eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9', 'c2Vzc2lvbi1rZXk', 'aXYtOTYtYml0cw', ciphertext, 'dGFnLTEyOC1iaXRz'] as const;
    const expected = Buffer.from(JSON.stringify({ ...envelope, data: parts.map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.') }));
    t.ok(envelopeJsonBytes(envelope, [...parts]).equals(expected), `${length} bytes`);
    t.equal(base64urlLength(length), ciphertext.toString('base64url').length, `length of ${length} bytes encoded`);
  }
  const target = Buffer.alloc(20, 0x2a);
  const bytes = new Uint8Array(Buffer.from('a view: only these'));
  t.equal(writeBase64url(target, 2, bytes.subarray(8)), 14, 'a Uint8Array view is written over its own bytes only');
  t.equal(target.toString('latin1', 2, 16), Buffer.from('only these').toString('base64url'));
  t.equal(target.toString('latin1', 0, 2) + target.toString('latin1', 16), '******', 'nothing written outside');
});

t.test('tampered header, encrypted key, IV, ciphertext or tag, a wrong key and an unknown kid are refused', async (t) => {
  const r = recipient();
  const sealer = new PayloadSealer(() => ({ kid: r.kid, key: r.publicKey }));
  const jwe = sealer.seal('{"secret":"marker"}');
  for (const [i, name] of [[1, 'encrypted key'], [2, 'IV'], [3, 'ciphertext'], [4, 'tag']] as const) {
    t.throws(() => recipient().opener.open(withPart(jwe, i, flip(part(jwe, i)))), PayloadDecryptionError, `tampered ${name}`);
    t.throws(() => r.opener.open(withPart(jwe, i, flip(part(jwe, i)))), PayloadDecryptionError, `tampered ${name} (right key)`);
  }
  const header = JSON.parse(Buffer.from(part(jwe, 0), 'base64url').toString()) as Record<string, unknown>;
  const reheader = (h: Record<string, unknown>) => withPart(jwe, 0, Buffer.from(JSON.stringify(h)).toString('base64url'));
  t.throws(() => r.opener.open(reheader({ ...header, cty: 'text' })), PayloadDecryptionError, 'a header member changed (the AAD)');
  t.throws(() => r.opener.open(reheader({ ...header, enc: 'A128GCM' })), /must use/, 'another enc');
  t.throws(() => r.opener.open(reheader({ ...header, alg: 'dir' })), /must use/, 'another alg');
  t.throws(() => r.opener.open(reheader({ ...header, zip: 'DEF' })), /zip and crit/, 'compression refused');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  t.throws(() => r.opener.open(reheader({ ...header, epk: { kty: 'EC', crv: 'P-256', x: other.x, y: header.epk && (header.epk as { y: string }).y } })), PayloadDecryptionError, 'an epk off the curve');
  t.throws(() => r.opener.open(reheader({ ...header, kid: 'nobody' })), UnknownDecryptionKeyError, 'an unknown kid');
  const impostor = recipient();
  const wrong = new PayloadOpener(() => impostor.privateKey);
  t.throws(() => wrong.open(jwe), PayloadDecryptionError, 'the wrong private key');
  t.throws(() => r.opener.open('a.b.c'), PayloadDecryptionError, 'not a JWE');
  t.equal(r.opener.open(jwe).toString(), '{"secret":"marker"}', 'the untouched record still opens');
});

t.test('interop: jose decrypts what the sealer wrote, and the opener decrypts what jose wrote', async (t) => {
  const r = recipient();
  const sealer = new PayloadSealer(() => ({ kid: r.kid, key: r.publicKey }));
  const jwe = sealer.seal('{"hello":"xin chào"}');
  const second = sealer.seal('{"n":2}');
  const opened = await compactDecrypt(jwe, r.privateKey, { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256GCM'] });
  t.equal(Buffer.from(opened.plaintext).toString(), '{"hello":"xin chào"}');
  t.equal(opened.protectedHeader.kid, 'r1');
  t.equal(Buffer.from((await compactDecrypt(second, r.privateKey)).plaintext).toString(), '{"n":2}', 'a second record of the session too');
  const fromJose = await new CompactEncrypt(Buffer.from('{"from":"jose"}')).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'r1' }).encrypt(r.publicKey);
  t.equal(r.opener.open(fromJose).toString(), '{"from":"jose"}');
});

t.test('stored objects for several readers: general JSON JWE each recipient (and jose) opens', async (t) => {
  const a = recipient('a');
  const b = recipient('b');
  const bytes = Buffer.from('attachment bytes: Hồ sơ');
  const { jwe, ciphertext } = sealForRecipients(bytes, [{ kid: 'a', key: a.publicKey }, { kid: 'b', key: b.publicKey }]);
  t.notOk(ciphertext.includes(Buffer.from('Hồ sơ')));
  t.same(a.opener.openDetached(jwe, ciphertext), bytes, 'recipient a');
  t.same(b.opener.openDetached(jwe, ciphertext), bytes, 'recipient b');
  t.throws(() => recipient('c').opener.openDetached(jwe, ciphertext), UnknownDecryptionKeyError, 'a service with neither key');
  const general = { ...jwe, ciphertext: ciphertext.toString('base64url') };
  t.same(Buffer.from((await generalDecrypt(general, b.privateKey)).plaintext), bytes, 'jose opens the general JSON form');
  const tampered = Buffer.from(ciphertext);
  tampered[0] ^= 1;
  t.throws(() => a.opener.openDetached(jwe, tampered), PayloadDecryptionError, 'tampered ciphertext');
  t.throws(() => a.opener.openDetached({ ...jwe, tag: jwe.tag.slice(0, 16) }, ciphertext), /128-bit tag/, 'a truncated tag');
});

t.test('key files: init and rotation keep earlier decryption keys; sealers follow the keyset', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-enc-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keysDir = join(dir, 'keys');
  const jwksFile = join(keysDir, 'public', 'jwks.json');
  const created = await ensureKeys(keysDir, jwksFile);
  t.same(created.filter((c) => c.purpose === 'payload-encryption').map((c) => c.service).sort(), ['gateway', 'runner']);
  const keyset = PublicKeyset.open(jwksFile, { watchIntervalMs: 0 });
  const published = keyset.currentKey('payload-encryption', 'runner')!;
  const jwk = (JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: Array<Record<string, unknown>> }).keys.find((k) => k.kid === published.kid)!;
  t.match(jwk, { use: 'enc', alg: 'ECDH-ES+A256KW', lgsp_purpose: 'payload-encryption', lgsp_service: 'runner' });
  t.notOk('d' in jwk);

  const sealer = sealerFor(keyset, 'runner');
  const ring = openDecryptionKeyring(keysDir, 'runner');
  const opener = payloadOpener(ring);
  const before = sealer.seal('{"before":"rotation"}');
  t.throws(() => payloadOpener(openDecryptionKeyring(keysDir, 'gateway')).open(before), UnknownDecryptionKeyError, "the gateway cannot open what was sealed for the runner");

  const [rotated] = await rotateKeys(keysDir, jwksFile, { purpose: 'payload-encryption', service: 'runner' });
  t.equal(rotated.previous, published.kid);
  const stored = (JSON.parse(readFileSync(privateKeyFile(keysDir, 'runner', 'payload-encryption'), 'utf8')) as { keys: Array<{ kid: string }> }).keys;
  t.same(stored.map((k) => k.kid), [published.kid, rotated.kid], 'the earlier private key stays, the new one is last');
  keyset.reload();
  t.equal(keyset.currentKey('payload-encryption', 'runner')!.kid, rotated.kid, 'the keyset names the new key current');
  const after = sealer.seal('{"after":"rotation"}');
  t.equal(JSON.parse(Buffer.from(part(after, 0), 'base64url').toString()).kid, rotated.kid, 'the sealer switched at once (the kid changed)');
  // The running ring has not looked at its file yet: an unknown kid re-reads it (cooldown 1 s).
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(opener.open(after).toString(), '{"after":"rotation"}', 'the new key opens after the file re-read');
  t.equal(opener.open(before).toString(), '{"before":"rotation"}', 'the rotated-out key still opens older records');

});
