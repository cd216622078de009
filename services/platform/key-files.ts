// Where the keys live on disk, how they are created and how they rotate. Each service's private
// keys are in their own directory, <keysDir>/<service>/<purpose>.json (mode 0600; a deployment
// mounts only that directory into the service: a Secret per service), and the public keyset is
// one JWKS file every process may read (LGSP_JWKS_FILE; in its own directory, <keysDir>/public/
// by default, so a deployment can mount it without mounting anyone's private keys). Rotation publishes the new public key
// in the keyset *before* the signer's file changes, so no verifier ever meets a signature by a
// key it cannot find; the previous key is marked superseded and keeps verifying for the grace
// period (public-keyset.ts). Running signers watch their file (keystore.ts) and switch without
// a restart.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from './config.js';
import { generateSigningJwk, PlatformKeystore } from './keystore.js';
import { DecryptionKeyring, generateEncryptionJwk, type StoredPrivateKey } from './payload-keyring.js';
import { isEncryptionPurpose, KEY_HOLDERS, KEY_SERVICES, PURPOSE_MEMBER, SERVICE_MEMBER, SUPERSEDED_MEMBER, type KeyPurpose, type KeyService, type PublishedJwk } from './key-purposes.js';
import { parsePublishedKeys } from './public-keyset.js';
import type { JWK } from 'jose';
import type { Logger } from './logger.js';
import { keyFileProblem } from './key-file-watch.js';

export function privateKeyFile(keysDir: string, service: KeyService, purpose: KeyPurpose): string {
  return join(keysDir, service, `${purpose}.json`);
}

function writeAtomically(file: string, content: string, mode: number): void {
  // A private key's directory is its service's alone; the keyset's is readable by all.
  mkdirSync(dirname(file), { recursive: true, mode: mode & 0o044 ? 0o755 : 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

function readJwks(jwksFile: string): PublishedJwk[] {
  if (!existsSync(jwksFile)) return [];
  const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as { keys: PublishedJwk[] };
  parsePublishedKeys(jwks); // refuse to extend a keyset that is already wrong
  return jwks.keys;
}

function writeJwks(jwksFile: string, keys: PublishedJwk[]): void {
  // Public by design (0644): every verifier and receiver may read it.
  writeAtomically(jwksFile, JSON.stringify({ keys }, null, 2) + '\n', 0o644);
}

async function newKey(service: KeyService, purpose: KeyPurpose): Promise<{ kid: string; privateJwk: JWK; published: PublishedJwk }> {
  const { kid, privateJwk, publicJwk } = isEncryptionPurpose(purpose) ? await generateEncryptionJwk() : await generateSigningJwk();
  return { kid, privateJwk, published: { ...publicJwk, [PURPOSE_MEMBER]: purpose, [SERVICE_MEMBER]: service } };
}

/** Returns the earlier kids the file keeps (decryption files only; none when the file was missing). */
function writePrivate(keysDir: string, service: KeyService, purpose: KeyPurpose, kid: string, privateJwk: JWK): string[] {
  // A signing file keeps only the key that signs from now on: superseded keys verify from the
  // public keyset and have no reason to stay readable anywhere. A decryption file keeps every
  // earlier key after the new one's: records and stored items sealed for them (dead letters,
  // inbox items, documents) must stay readable as long as they are kept.
  const file = privateKeyFile(keysDir, service, purpose);
  const earlier = isEncryptionPurpose(purpose) && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { keys: StoredPrivateKey[] }).keys : [];
  writeAtomically(file, JSON.stringify({ keys: [...earlier, { kid, createdAt: new Date().toISOString(), privateJwk }] }, null, 2), 0o600);
  return earlier.map((k) => k.kid);
}

/**
 * First run: every service gets each key it holds (KEY_HOLDERS) that it does not have yet, and
 * the keyset publishes it. Existing keys are left alone. Returns the keys created.
 */
export async function ensureKeys(keysDir: string, jwksFile: string): Promise<Array<{ service: KeyService; purpose: KeyPurpose; kid: string }>> {
  const published = readJwks(jwksFile);
  const created: Array<{ service: KeyService; purpose: KeyPurpose; kid: string; privateJwk: JWK }> = [];
  for (const service of KEY_SERVICES) {
    for (const purpose of KEY_HOLDERS[service]) {
      if (existsSync(privateKeyFile(keysDir, service, purpose))) continue;
      const key = await newKey(service, purpose);
      published.push(key.published);
      created.push({ service, purpose, kid: key.kid, privateJwk: key.privateJwk });
    }
  }
  if (created.length === 0) return [];
  // Decryption keys before the keyset, signing keys after it (as rotateKeys() does).
  for (const c of created) if (isEncryptionPurpose(c.purpose)) writePrivate(keysDir, c.service, c.purpose, c.kid, c.privateJwk);
  writeJwks(jwksFile, published);
  for (const c of created) if (!isEncryptionPurpose(c.purpose)) writePrivate(keysDir, c.service, c.purpose, c.kid, c.privateJwk);
  return created.map(({ service, purpose, kid }) => ({ service, purpose, kid }));
}

/**
 * `lgsp keys rotate [--purpose P] [--service S]`: a new key for every matching (service,
 * purpose) pair. For signing keys the keyset is written first (verifiers can find the key), then
 * each signer's file (signers switch to it). For decryption keys the other way round: the
 * decrypting service's file first (it can open what is sealed for the new key), then the keyset
 * (sealers switch to it).
 */
export async function rotateKeys(
  keysDir: string,
  jwksFile: string,
  filter: { purpose?: KeyPurpose; service?: KeyService } = {},
  now: () => number = Date.now,
): Promise<Array<{ service: KeyService; purpose: KeyPurpose; kid: string; previous?: string; previousKept?: boolean }>> {
  const published = readJwks(jwksFile);
  const rotated: Array<{ service: KeyService; purpose: KeyPurpose; kid: string; previous?: string; privateJwk: JWK }> = [];
  const supersededAt = Math.floor(now() / 1000);
  for (const service of KEY_SERVICES) {
    if (filter.service && filter.service !== service) continue;
    for (const purpose of KEY_HOLDERS[service]) {
      if (filter.purpose && filter.purpose !== purpose) continue;
      const previous = published.filter((k) => k[SERVICE_MEMBER] === service && k[PURPOSE_MEMBER] === purpose && k[SUPERSEDED_MEMBER] === undefined);
      for (const old of previous) old[SUPERSEDED_MEMBER] = supersededAt;
      const key = await newKey(service, purpose);
      published.push(key.published);
      rotated.push({ service, purpose, kid: key.kid, previous: previous.at(-1)?.kid, privateJwk: key.privateJwk });
    }
  }
  if (rotated.length === 0) return [];
  // A decryption key is on disk before anyone can seal for it; a signing key is published before
  // anyone signs with it.
  const kept = new Map<string, string[]>();
  for (const r of rotated) if (isEncryptionPurpose(r.purpose)) kept.set(r.kid, writePrivate(keysDir, r.service, r.purpose, r.kid, r.privateJwk));
  writeJwks(jwksFile, published);
  for (const r of rotated) if (!isEncryptionPurpose(r.purpose)) writePrivate(keysDir, r.service, r.purpose, r.kid, r.privateJwk);
  return rotated.map(({ service, purpose, kid, previous }) => ({
    service,
    purpose,
    kid,
    previous,
    // A decryption file that was lost or replaced no longer holds the key it replaces.
    ...(isEncryptionPurpose(purpose) && previous ? { previousKept: kept.get(kid)!.includes(previous) } : {}),
  }));
}

export type ServiceSigningKeys<P extends KeyPurpose> = Record<P, PlatformKeystore>;

/**
 * The private keys of one service, each watched for rotations. Only that service's own
 * directory is read; a missing or unreadable key is a configuration error (a service never
 * invents an unpublished key: nobody could verify it).
 */
export async function openServiceKeys<P extends KeyPurpose>(keysDir: string, service: KeyService, purposes: readonly P[], log?: Logger): Promise<ServiceSigningKeys<P>> {
  const out = {} as ServiceSigningKeys<P>;
  for (const purpose of purposes) {
    if (isEncryptionPurpose(purpose)) throw new Error(`${purpose} keys decrypt; open them with openDecryptionKeyring()`);
    if (!KEY_HOLDERS[service].includes(purpose)) throw new Error(`the ${service} service holds no ${purpose} key`);
    const file = privateKeyFile(keysDir, service, purpose);
    if (!existsSync(file)) throw new ConfigError(`no ${purpose} key for the ${service} service at ${file} (run \`lgsp keys init\`, or mount its key Secret)`);
    try {
      out[purpose] = await PlatformKeystore.open(file, { what: `${service} ${purpose} key file`, log });
    } catch (err) {
      throw unreadableKeyFile(service, purpose, file, err);
    }
  }
  return out;
}

/** The decryption keys of `service` (its own directory only, watched); a missing or unreadable file is a configuration error. */
export function openDecryptionKeyring(keysDir: string, service: KeyService, log?: Logger): DecryptionKeyring {
  const file = privateKeyFile(keysDir, service, 'payload-encryption');
  // Not `lgsp keys init` first: a new key opens nothing sealed for the one that is missing.
  if (!existsSync(file)) {
    throw new ConfigError(
      `no payload-encryption key for the ${service} service at ${file}: restore the file from your backup or mount its key Secret ` +
        '(docs/operator-guide.md, "Incident: a payload-encryption key is lost"); on a first run, `lgsp keys init` creates it',
    );
  }
  try {
    return DecryptionKeyring.open(file, { what: `${service} payload-encryption key file`, log });
  } catch (err) {
    throw unreadableKeyFile(service, 'payload-encryption', file, err);
  }
}

/**
 * A key file that is there but cannot be used (not readable by the service's user, not JSON, a
 * directory where a Secret was mounted one level off): a configuration error naming the file,
 * which stops the service with that line (service-main.ts), not a stack trace.
 */
function unreadableKeyFile(service: KeyService, purpose: KeyPurpose, file: string, err: unknown): ConfigError {
  const reason = keyFileProblem(err);
  return new ConfigError(`cannot read the ${purpose} key of the ${service} service from ${file}: ${reason} (check the file's owner, mode and contents, or mount its key Secret again)`);
}
