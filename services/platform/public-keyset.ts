// The platform's public keyset (a JWKS file, what /.well-known/jwks.json serves): every signing
// key of every service, each marked with its purpose and owner (key-purposes.ts). Verifiers hold
// this and nothing else — no service reads another's private key file, and `lgsp audit verify`
// reads no private key at all. The file is watched: a key `lgsp keys rotate` publishes is found
// within LGSP_KEYS_WATCH_MS, and an unknown kid re-reads it at once (at most once a second), so a
// signer that switched to its new key before this process looked again is not refused.
// A superseded key is accepted for live verification (tokens, records on their way, deliveries)
// for a grace period after its successor took over; archive verification (the audit chain, its
// checkpoints) accepts every key ever published.
// What it publishes (jwks(), served as /.well-known/jwks.json) is the file as it is at that
// moment, not as the last watch saw it: `lgsp keys rotate` writes the keyset before the signers'
// private files, but each process polls on its own phase, so a runner that looked first signed
// deliveries for up to LGSP_KEYS_WATCH_MS with a key the gateway's JWKS did not list yet, and a
// receiver that re-fetched the JWKS for the unknown kid (as the README tells it to) was refused it
// (measured on `npm start`: 27 of 135 deliveries in the 1.1 s after a rotation).
import { readFileSync, statSync } from 'node:fs';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { errors, type JWK, type JWTVerifyGetKey } from 'jose';
import { holds, isEncryptionPurpose, isKeyPurpose, isKeyService, PURPOSE_MEMBER, SERVICE_MEMBER, SUPERSEDED_MEMBER, type KeyPurpose, type KeyService } from './key-purposes.js';
import type { PublicKeyLookup } from './es256.js';
import { keysWatchInterval, watchKeyFile, type KeyFileWatch } from './key-file-watch.js';
import { ConfigError } from './config.js';

export interface PublishedKey {
  kid: string;
  purpose: KeyPurpose;
  service: KeyService;
  /** Epoch seconds at which a newer key took over, if one did. */
  supersededAt?: number;
  jwk: JWK;
  key: KeyObject;
}

export interface PublicKeysetOptions {
  /** Where a change of the file that cannot be used, or its loss, is said (key-file-watch.ts). */
  log?: KeyFileWatch['log'];
  /** How long a superseded key still verifies live artefacts (default 8 days: past a record's TTL). */
  graceSeconds?: number;
  watchIntervalMs?: number;
  now?: () => number;
}

export const DEFAULT_KEY_GRACE_SECONDS = 8 * 24 * 3600;
const RELOAD_COOLDOWN_MS = 1000;

/** A keyset that cannot be used; at a service's start, a configuration error (service-main.ts). */
export class KeysetError extends ConfigError {
  override name = 'KeysetError';
}

/** Parses a JWKS, refusing private members and keys without a purpose its owner may hold. */
export function parsePublishedKeys(jwks: unknown): PublishedKey[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new KeysetError('not a JWKS (no "keys" array)');
  return keys.map((raw: JWK & Record<string, unknown>, i) => {
    if (typeof raw !== 'object' || raw === null) throw new KeysetError(`key ${i} is not an object`);
    // A public keyset travels to every verifier and receiver: a private member here is a leak.
    if ('privateJwk' in raw) throw new KeysetError(`key ${i} (${String(raw.kid)}) is an entry of a service's private key file, not of a public keyset (JWKS): pass the keyset, e.g. saved from GET /.well-known/jwks.json`);
    if ('d' in raw || 'p' in raw || 'k' in raw) throw new KeysetError(`key ${i} (${String(raw.kid)}) holds private key material; a public keyset must not`);
    const purpose = raw[PURPOSE_MEMBER];
    const service = raw[SERVICE_MEMBER];
    if (typeof raw.kid !== 'string' || !raw.kid) throw new KeysetError(`key ${i} has no kid`);
    if (!isKeyPurpose(purpose) || !isKeyService(service)) throw new KeysetError(`key ${raw.kid} has no valid ${PURPOSE_MEMBER}/${SERVICE_MEMBER}`);
    if (!holds(service, purpose)) throw new KeysetError(`key ${raw.kid}: the ${service} service holds no ${purpose} key`);
    if (raw.kty !== 'EC' || raw.crv !== 'P-256') throw new KeysetError(`key ${raw.kid} is not a P-256 key`);
    const supersededAt = raw[SUPERSEDED_MEMBER];
    return {
      kid: raw.kid,
      purpose,
      service,
      supersededAt: typeof supersededAt === 'number' ? supersededAt : undefined,
      jwk: raw,
      key: createPublicKey({ key: raw as JsonWebKey, format: 'jwk' }),
    };
  });
}

export class PublicKeyset {
  private keys = new Map<string, PublishedKey>();
  private lastReload = 0;
  /** The file's identity when it was last read: a rename into place changes the inode, a write the time. */
  private loadedVersion: string | null = null;

  private constructor(
    private readonly file: string | null,
    keys: PublishedKey[],
    private readonly opts: PublicKeysetOptions,
  ) {
    this.replace(keys);
  }

  /** Opens the keyset file (it must exist: a verifier never invents keys) and watches it. */
  static open(file: string, opts: PublicKeysetOptions = {}): PublicKeyset {
    let parsed: unknown;
    // Looked at before reading: a change made in between is then seen as one by the next look.
    const version = fileVersion(file);
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new KeysetError(`cannot read the public keyset ${file}: ${(err as Error).message}`);
    }
    let keys: PublishedKey[];
    try {
      keys = parsePublishedKeys(parsed);
    } catch (err) {
      throw new KeysetError(`the public keyset ${file} is not usable: ${(err as Error).message}`);
    }
    const keyset = new PublicKeyset(file, keys, opts);
    keyset.loadedVersion = version;
    keyset.watch(keysWatchInterval(opts.watchIntervalMs));
    return keyset;
  }

  /** A keyset held in memory (tests, receivers that fetched the JWKS). */
  static fromJwks(jwks: unknown, opts: PublicKeysetOptions = {}): PublicKeyset {
    return new PublicKeyset(null, parsePublishedKeys(jwks), opts);
  }

  private replace(keys: PublishedKey[]): void {
    this.keys = new Map(keys.map((k) => [k.kid, k]));
  }

  private watch(intervalMs: number): void {
    if (!this.file || intervalMs <= 0) return;
    watchKeyFile(
      this.file,
      intervalMs,
      () => {
        this.read();
        return `${this.keys.size} public keys`;
      },
      { what: 'public keyset', log: this.opts.log },
    );
  }

  /** Re-reads the file; a malformed file leaves the keys we have in place (the watcher says so in the log). */
  reload(): void {
    try {
      this.read();
    } catch {
      /* keep what we have */
    }
  }

  /** Re-reads the file, throwing when it cannot be used (the keys in place stay). */
  private read(): void {
    if (!this.file) return;
    this.lastReload = Date.now();
    const version = fileVersion(this.file);
    this.replace(parsePublishedKeys(JSON.parse(readFileSync(this.file, 'utf8'))));
    this.loadedVersion = version;
  }

  private live(k: PublishedKey): boolean {
    if (k.supersededAt === undefined) return true;
    const now = (this.opts.now ?? Date.now)() / 1000;
    return now < k.supersededAt + (this.opts.graceSeconds ?? DEFAULT_KEY_GRACE_SECONDS);
  }

  private find(kid: string, purpose: KeyPurpose, archive: boolean): PublishedKey | undefined {
    let k = this.keys.get(kid);
    if (!k && this.file && Date.now() - this.lastReload >= RELOAD_COOLDOWN_MS) {
      this.reload();
      k = this.keys.get(kid);
    }
    if (!k || k.purpose !== purpose) return undefined;
    return archive || this.live(k) ? k : undefined;
  }

  /** node:crypto keys by kid, for es256.ts: only keys of `purpose`. */
  lookup(purpose: KeyPurpose, opts: { archive?: boolean } = {}): PublicKeyLookup {
    return (kid) => this.find(kid, purpose, opts.archive ?? false)?.key;
  }

  /** The same for jose (access tokens, checkpoints, detached signatures). */
  resolver(purpose: KeyPurpose, opts: { archive?: boolean } = {}): JWTVerifyGetKey {
    return async (header) => {
      // Never String() a kid that is not a string: an array nested thousands deep (a token's
      // header is the sender's to write) makes it recurse until the stack overflows.
      if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey(`no ${purpose} key: ${header.kid === undefined ? 'the header names no kid' : 'the kid in the header is not a string'}`);
      const k = this.find(header.kid, purpose, opts.archive ?? false);
      if (!k) throw new errors.JWKSNoMatchingKey(`no ${purpose} key with kid ${header.kid}`);
      return k.key;
    };
  }

  /**
   * The key of `service` for `purpose` that is not superseded (the newest, should a keyset hold
   * several): what a sealer encrypts for (payload-encryption keys). A kid with its public key.
   */
  currentKey(purpose: KeyPurpose, service: KeyService): { kid: string; key: KeyObject } | undefined {
    let current: PublishedKey | undefined;
    for (const k of this.keys.values()) if (k.purpose === purpose && k.service === service && k.supersededAt === undefined) current = k;
    return current ? { kid: current.kid, key: current.key } : undefined;
  }

  /** Which service's key `kid` is (records: checked against the topic's writers). */
  ownerOf(kid: string): KeyService | undefined {
    return this.keys.get(kid)?.service;
  }

  /**
   * The keys that still verify live artefacts (what /.well-known/jwks.json serves), newest first;
   * with `archive`, every signing key ever published (?include=superseded): what verifies the
   * audit chain, whose entries keep the signatures of keys long past their grace period.
   * Payload-encryption keys are not among them: only bus services seal for each other.
   */
  jwks(filter: { purpose?: KeyPurpose; archive?: boolean } = {}): { keys: JWK[] } {
    // A stat per request (microseconds; clients cache the JWKS for a minute): never a stale answer.
    if (this.file && fileVersion(this.file) !== this.loadedVersion) this.reload();
    const keys = [...this.keys.values()].filter((k) => (filter.archive || this.live(k)) && !isEncryptionPurpose(k.purpose) && (!filter.purpose || k.purpose === filter.purpose));
    return { keys: keys.reverse().map((k) => k.jwk) };
  }
}

/** The file's inode, modification time and size; null while it is missing (being replaced). */
function fileVersion(file: string): string | null {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return null;
  }
}
