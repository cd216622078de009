// A running service re-reads its key files as they change and keeps the keys it holds when a file
// cannot be used. It used to say nothing: a rotation that did not take, a broken file or a key
// file deleted by mistake showed only at the next restart, which then failed. Now each is in the
// service's log (key-file-watch.ts), naming the file and never a key's material; the service goes
// on signing, decrypting and verifying with the keys it held.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ensureKeys, openDecryptionKeyring, openServiceKeys, privateKeyFile, rotateKeys } from '../services/platform/key-files.js';
import { PublicKeyset } from '../services/platform/public-keyset.js';

interface Line {
  level: number;
  msg: string;
  file?: string;
  reason?: string;
}

const WATCH_MS = 50;
const WARN = 40;
const INFO = 30;

function capturingLogger(): { log: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { log, lines };
}

/** Waits until a line about `file` matching `msg` is logged, at `from` or after (or fails after 3 s). */
async function said(lines: Line[], file: string, msg: RegExp, from = 0): Promise<Line | undefined> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    const found = lines.slice(from).find((l) => l.file === file && msg.test(l.msg));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

/** A key directory of its own, every key created as `lgsp keys init` does. */
async function freshKeys(t: Test): Promise<{ keysDir: string; jwksFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-key-watch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keysDir = join(dir, 'keys');
  const jwksFile = join(keysDir, 'public', 'jwks.json');
  await ensureKeys(keysDir, jwksFile);
  return { keysDir, jwksFile };
}

/** Replaces a file as `lgsp keys rotate` and a Secret update do: written aside, renamed into place. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

t.test('a signing key file: rotation, a broken file and a missing one are each said, and the keys held stay in use', async (t) => {
  const { keysDir, jwksFile } = await freshKeys(t);
  process.env.LGSP_KEYS_WATCH_MS = String(WATCH_MS);
  t.teardown(() => void delete process.env.LGSP_KEYS_WATCH_MS);
  const { log, lines } = capturingLogger();
  const keys = await openServiceKeys(keysDir, 'runner', ['record'] as const, log);
  const file = privateKeyFile(keysDir, 'runner', 'record');

  const [rotated] = await rotateKeys(keysDir, jwksFile, { purpose: 'record', service: 'runner' });
  const took = await said(lines, file, /^runner record key file reloaded: /);
  t.ok(took, 'the rotation is said once taken');
  t.equal(took?.level, INFO);
  t.match(took?.msg, new RegExp(`signs with key ${rotated.kid}$`), 'with the key it now signs with');
  t.equal(keys.record.signingKey.kid, rotated.kid);

  const good = readFileSync(file, 'utf8');
  const secret = (JSON.parse(good) as { keys: Array<{ privateJwk: { d: string } }> }).keys.at(-1)!.privateJwk.d;
  // Cut in the middle of the private key: JSON.parse's message would quote the text around the fault.
  replace(file, `${good.slice(0, good.indexOf(secret) + 10)} x`);
  const broken = await said(lines, file, /changed but cannot be used/);
  t.ok(broken, 'a file that cannot be used is said');
  t.equal(broken?.level, WARN);
  t.equal(broken?.msg, 'runner record key file changed but cannot be used: the keys loaded before stay in use until it is mended');
  t.equal(broken?.reason, 'the file is not valid JSON');
  t.notMatch(JSON.stringify(lines), secret.slice(0, 10), 'no part of the private key reaches the log');
  t.equal(keys.record.signingKey.kid, rotated.kid, 'the key held still signs');

  rmSync(file);
  const missing = await said(lines, file, /is missing/);
  t.equal(missing?.level, WARN, 'a missing file is said');
  t.match(missing?.msg, /^runner record key file is missing: the keys loaded before stay in use until it is back, and the service would not start again without it$/);
  t.equal(keys.record.signingKey.kid, rotated.kid);

  const before = lines.length;
  replace(file, good);
  t.ok(await said(lines, file, /is back$/), 'and its return');
  t.ok(await said(lines, file, /reloaded: signs with key/, before), 'read again once back');
});

t.test('a payload-encryption key file and the public keyset: a broken file is said, the keys held stay', async (t) => {
  const { keysDir, jwksFile } = await freshKeys(t);
  const { log, lines } = capturingLogger();
  const ring = openDecryptionKeyring(keysDir, 'gateway', log);
  const ringFile = privateKeyFile(keysDir, 'gateway', 'payload-encryption');
  const keyset = PublicKeyset.open(jwksFile, { log, watchIntervalMs: WATCH_MS });
  const kid = keyset.currentKey('payload-encryption', 'gateway')!.kid;
  t.ok(ring.lookup(kid), 'the keyring opens what is sealed for its key');

  // The keyring's watch interval comes from the environment; the keyset's from its options.
  replace(jwksFile, '{"keys": 5}');
  const refused = await said(lines, jwksFile, /^public keyset changed but cannot be used/);
  t.equal(refused?.level, WARN, 'the keyset says it');
  t.match(refused?.reason, /no "keys" array/, 'and why: a public file, its own words');
  t.equal(keyset.currentKey('payload-encryption', 'gateway')?.kid, kid, 'the keys held stay');

  process.env.LGSP_KEYS_WATCH_MS = String(WATCH_MS);
  t.teardown(() => void delete process.env.LGSP_KEYS_WATCH_MS);
  const watchedRing = openDecryptionKeyring(keysDir, 'gateway', log);
  replace(ringFile, '{"keys": []}');
  const emptied = await said(lines, ringFile, /^gateway payload-encryption key file changed but cannot be used/);
  t.equal(emptied?.level, WARN, 'the keyring says it');
  t.match(emptied?.reason, /holds no keys/);
  t.ok(watchedRing.lookup(kid), 'and still opens with the key it held');
});
