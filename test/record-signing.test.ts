import t from 'tap';
import { buildTree, leafHash, provenIncluded } from '../services/platform/merkle.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { ensureKeys, privateKeyFile, rotateKeys } from '../services/platform/key-files.js';
import { PublicKeyset } from '../services/platform/public-keyset.js';
import { RecordVerifier, signBatch, SIGNATURE_HEADER, PROOF_HEADER } from '../services/platform/record-signing.js';

t.test('Merkle inclusion proofs hold for every leaf of every batch size', async (t) => {
  for (const size of [1, 2, 3, 5, 8, 13]) {
    const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
    const { root, paths } = buildTree(leaves);
    for (let i = 0; i < size; i++) {
      t.ok(provenIncluded(root, leaves[i], i, size, paths[i], new Map()), `size ${size} leaf ${i}`);
    }
    if (size > 1) {
      t.notOk(provenIncluded(root, leaves[0], 1, size, paths[0], new Map()), 'wrong index fails');
      t.notOk(provenIncluded(root, leaves[0], 0, size, [...paths[0], leaves[1]], new Map()), 'extra path element fails');
    }
  }
});

t.test('proven nodes: every leaf of a batch verifies in any order, and forgeries still fail once neighbours are proven', async (t) => {
  for (const size of [1, 2, 3, 5, 8, 13, 240]) {
    const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
    const { root, paths } = buildTree(leaves);
    const proven = new Map<string, Buffer>();
    const order = leaves.map((_, i) => i).sort((a, b) => ((a * 7919) % size) - ((b * 7919) % size));
    let ok = 0;
    for (const i of order) if (provenIncluded(root, leaves[i], i, size, paths[i], proven)) ok++;
    t.equal(ok, size, `size ${size}: all leaves`);
    const forged = leafHash(Buffer.from('forged'));
    for (const i of [0, size - 1]) {
      t.notOk(provenIncluded(root, forged, i, size, paths[i], proven), `size ${size}: forged leaf at ${i}`);
      if (size > 1) {
        t.notOk(provenIncluded(root, leaves[i], i, size, paths[i].slice(1), proven), `size ${size}: short path at ${i}`);
        t.notOk(provenIncluded(root, leaves[i], i, size, [...paths[i], leaves[0]], proven), `size ${size}: long path at ${i}`);
        t.notOk(provenIncluded(root, leaves[i], i ^ 1, size, paths[i], proven), `size ${size}: wrong index for ${i}`);
      }
    }
    t.notOk(provenIncluded(leafHash(Buffer.from('other root')), leaves[0], 0, size, paths[0], new Map()), `size ${size}: other root`);
    t.notOk(provenIncluded(root, leaves[0], size, size, paths[0], proven), `size ${size}: index out of range`);
  }
});

t.test('batch signatures verify per record and catch tampering', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const values = ['{"a":1}', '{"b":2}', '{"c":3}'].map((v) => Buffer.from(v));
  const sigs = signBatch(values, keystore.signingKey, 60);
  t.equal(new Set(sigs.map((s) => s[SIGNATURE_HEADER])).size, 1, 'one signature for the whole batch');
  const verifier = new RecordVerifier(keystore.publicKeyLookup());
  for (let i = 0; i < values.length; i++) t.match(await verifier.verify(values[i], sigs[i]), { ok: true }, `record ${i}`);

  t.match(await verifier.verify(Buffer.from('{"a":2}'), sigs[0]), { ok: false, reason: /tampered or forged/ }, 'edited value');
  t.match(await verifier.verify(values[0], sigs[1]), { ok: false }, 'proof of another record');
  t.match(await verifier.verify(values[0], {}), { ok: false, reason: /not signed/ }, 'unsigned');
  t.match(await verifier.verify(values[0], { ...sigs[0], [PROOF_HEADER]: 'garbage' }), { ok: false, reason: /malformed/ });

  const other = await PlatformKeystore.ephemeral();
  const forged = signBatch(values, other.signingKey, 60);
  t.match(await verifier.verify(values[0], forged[0]), { ok: false, reason: /signature verification failed/ }, 'signed by a key not in the JWKS');

  const expired = signBatch(values, keystore.signingKey, 60);
  const later = new RecordVerifier(keystore.publicKeyLookup(), { now: () => Date.now() + 120_000 });
  t.match(await later.verify(values[0], expired[0]), { ok: false, reason: /expired/ }, 'expired');
  const audit = new RecordVerifier(keystore.publicKeyLookup(), { now: () => Date.now() + 120_000, enforceExpiry: false });
  t.match(await audit.verify(values[0], expired[0]), { ok: true }, 'audit verification ignores expiry');
});

t.test('a batch signature checked by one verifier counts for another only with the same key', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const values = [Buffer.from('{"shared":1}'), Buffer.from('{"shared":2}')];
  const sigs = signBatch(values, keystore.signingKey, 60);
  const lookup = keystore.publicKeyLookup();
  t.match(await new RecordVerifier(lookup).verify(values[0], sigs[0]), { ok: true }, 'first consumer checks the signature');
  t.match(await new RecordVerifier(lookup).verify(values[1], sigs[1]), { ok: true }, 'second consumer with the same keys reuses the verdict');
  t.match(await new RecordVerifier(lookup).verify(Buffer.from('{"shared":3}'), sigs[1]), { ok: false, reason: /tampered or forged/ }, 'a reused verdict still checks the record against its proof');
  // Same kid, another key: the verdict reached with the real key must not carry over.
  const impostor = await PlatformKeystore.ephemeral();
  const otherKey = impostor.publicKeyLookup()(impostor.signingKey.kid)!;
  t.match(await new RecordVerifier(() => otherKey).verify(values[0], sigs[0]), { ok: false, reason: /signature verification failed/ }, 'a verifier holding another key for that kid checks for itself');
  t.match(await new RecordVerifier(() => undefined).verify(values[0], sigs[0]), { ok: false, reason: /no platform key/ }, 'a verifier without the key does not accept it');
});

t.test('an unknown kid is not remembered as a failure for good (the key may be rotated in)', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const values = [Buffer.from('{"late":1}')];
  const [sig] = signBatch(values, keystore.signingKey, 60);
  const known = keystore.publicKeyLookup();
  let rotatedIn = false;
  let clock = 1_000_000;
  const verifier = new RecordVerifier((kid) => (rotatedIn ? known(kid) : undefined), { now: () => clock, enforceExpiry: false });
  t.match(await verifier.verify(values[0], sig), { ok: false, reason: /no platform key/ }, 'unknown while the key is not published');
  // Seen in the disaster-recovery drill with a keys directory restored from a copy made before a
  // rotation: every record signed since was refused with the kid alone. The reason says where the
  // key is looked for and what to check.
  t.match(
    await verifier.verify(values[0], sig),
    { reason: /not in the public keyset this process reads \(LGSP_JWKS_FILE\).*keys directory restored from an older copy lacks every key rotated since/ },
    'the refusal says what to check',
  );
  rotatedIn = true;
  t.match(await verifier.verify(values[0], sig), { ok: false }, 'the answer is kept for a short cooldown');
  clock += 1500;
  t.match(await verifier.verify(values[0], sig), { ok: true }, 'after the cooldown the key is looked up again and the record verifies');
});

t.test('rotation reaches running services without a restart', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-rotate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keysDir = join(dir, 'keys');
  const jwksFile = join(dir, 'public', 'jwks.json');
  await ensureKeys(keysDir, jwksFile);
  // The gateway's record key as the running gateway holds it, and the keyset as a consumer does.
  const running = await PlatformKeystore.open(privateKeyFile(keysDir, 'gateway', 'record'), { watchIntervalMs: 50 });
  const keyset = PublicKeyset.open(jwksFile, { watchIntervalMs: 60_000 });
  const lookup = keyset.lookup('record');
  const before = running.signingKey.kid;
  const [sigBefore] = signBatch([Buffer.from('{"x":0}')], running.signingKey, 60);
  // `lgsp keys rotate` is another process: here, a call on the same files.
  const [{ kid: rotated }] = await rotateKeys(keysDir, jwksFile, { service: 'gateway', purpose: 'record' });
  const deadline = Date.now() + 5000;
  while (running.signingKey.kid !== rotated && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(running.signingKey.kid, rotated, 'the running service signs with the new key');
  t.not(rotated, before);
  const [sig] = signBatch([Buffer.from('{"x":1}')], running.signingKey, 60);
  // The keyset's own watch is slow here: the unknown kid makes it re-read the file at once.
  t.match(await new RecordVerifier(lookup).verify(Buffer.from('{"x":1}'), sig), { ok: true }, 'a verifier built before the rotation verifies the new key');
  t.match(await new RecordVerifier(lookup).verify(Buffer.from('{"x":0}'), sigBefore), { ok: true }, 'and still the old one (grace period)');
  t.same(keyset.jwks({ purpose: 'record' }).keys.map((k) => k.kid).filter((k) => k === rotated || k === before), [rotated, before], 'the keyset lists both, newest first');
});
