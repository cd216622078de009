// One signing key file: the private key(s) of one purpose of one service (key-files.ts lays
// them out, key-purposes.ts says who holds what). Generated on first run and kept outside git.
// The newest key signs. The file is watched: after `lgsp keys rotate` a running service signs
// with the new key within LGSP_KEYS_WATCH_MS, without a restart. Verification in services goes
// through the public keyset (public-keyset.ts), never through another service's key file; the
// in-memory lookups here serve tests and tools that hold a key of their own.
import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';
import { keysWatchInterval, watchKeyFile, type KeyFileOptions, type KeyFileWatch } from './key-file-watch.js';

export const SIGNING_ALG = 'ES256';

interface StoredKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

interface KeysFile {
  keys: StoredKey[];
}

export interface SigningKey {
  kid: string;
  alg: string;
  /** WebCrypto form, for jose (tokens, checkpoints). */
  key: CryptoKey;
  /** node:crypto form, for the hot path (es256.ts). */
  keyObject: KeyObject;
}

export async function generateSigningJwk(): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk);
  privateJwk.kid = kid;
  privateJwk.alg = SIGNING_ALG;
  privateJwk.use = 'sig';
  return { kid, privateJwk, publicJwk: toPublicJwk(privateJwk) };
}

export function toPublicJwk(jwk: JWK): JWK {
  const { d: _d, ...pub } = jwk;
  return pub;
}

export class PlatformKeystore {
  private constructor(
    private readonly file: string | null,
    private stored: StoredKey[],
    private active: SigningKey,
  ) {}

  /**
   * Loads a key file written by key-files.ts (`lgsp keys init` / `rotate`) and watches it for
   * rotations. It never creates one: a key nobody published could not be verified.
   */
  static async open(file: string, opts: KeyFileOptions = {}): Promise<PlatformKeystore> {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as KeysFile;
    const keystore = new PlatformKeystore(file, parsed.keys, await PlatformKeystore.importActive(parsed.keys));
    keystore.watch(keysWatchInterval(opts.watchIntervalMs), { what: opts.what ?? 'signing key file', log: opts.log });
    return keystore;
  }

  /** Reloads the key set whenever the keys file is replaced, saying so in the log (key-file-watch.ts). */
  private watch(intervalMs: number, said: KeyFileWatch): void {
    // 0: a one-off read (tools, tests), nothing to watch.
    if (!this.file || intervalMs <= 0) return;
    watchKeyFile(
      this.file,
      intervalMs,
      async () => {
        await this.reload();
        return `signs with key ${this.active.kid}`;
      },
      said,
    );
  }

  /** Re-reads the keys file: the newest key signs from now on, every key stays published. */
  async reload(): Promise<void> {
    if (!this.file) return;
    const keys = (JSON.parse(readFileSync(this.file, 'utf8')) as KeysFile).keys;
    const active = await PlatformKeystore.importActive(keys);
    this.stored = keys;
    this.active = active;
  }

  /** A keystore held only in memory (tests, ephemeral tools). */
  static async ephemeral(): Promise<PlatformKeystore> {
    const { kid, privateJwk } = await generateSigningJwk();
    const keys = [{ kid, createdAt: new Date().toISOString(), privateJwk }];
    return new PlatformKeystore(null, keys, await PlatformKeystore.importActive(keys));
  }

  private static async importActive(keys: StoredKey[]): Promise<SigningKey> {
    const newest = keys[keys.length - 1];
    if (!newest) throw new Error('keystore holds no keys');
    return {
      kid: newest.kid,
      alg: SIGNING_ALG,
      key: (await importJWK(newest.privateJwk, SIGNING_ALG)) as CryptoKey,
      keyObject: createPrivateKey({ key: newest.privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
    };
  }

  get signingKey(): SigningKey {
    return this.active;
  }

  /** This file's public keys, newest first (tests, tools; services publish the keyset). */
  publicJwks(): { keys: JWK[] } {
    return { keys: [...this.stored].reverse().map((k) => toPublicJwk(k.privateJwk)) };
  }

  /** jose key lookup over this file's own public keys (tests, tools). */
  keyResolver(): JWTVerifyGetKey {
    return createLocalJWKSet(this.publicJwks());
  }

  /** node:crypto public keys by kid over this file's own keys, for es256.ts (tests, tools). */
  publicKeyLookup(): (kid: string) => KeyObject | undefined {
    const cache = new Map<string, KeyObject>();
    return (kid) => {
      if (!cache.has(kid)) {
        // The watcher may have loaded new keys since the lookup was made.
        const stored = this.stored.find((k) => k.kid === kid);
        if (!stored) return undefined;
        cache.set(kid, createPublicKey({ key: toPublicJwk(stored.privateJwk) as import('node:crypto').JsonWebKey, format: 'jwk' }));
      }
      return cache.get(kid);
    };
  }
}
