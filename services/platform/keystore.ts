// Platform signing keys (tokens, bus records, deliveries, audit checkpoints). Generated on
// first run and kept outside git; rotation adds a new active key while older keys stay in the
// JWKS so records and tokens signed before the rotation still verify (no downtime).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';

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

function writeAtomically(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

export class PlatformKeystore {
  private constructor(
    private readonly file: string | null,
    private stored: StoredKey[],
    private active: SigningKey,
  ) {}

  /** Loads the keys file, creating it with one fresh key on first run. */
  static async open(file: string): Promise<PlatformKeystore> {
    if (!existsSync(file)) {
      const { kid, privateJwk } = await generateSigningJwk();
      writeAtomically(file, JSON.stringify({ keys: [{ kid, createdAt: new Date().toISOString(), privateJwk }] }, null, 2));
    }
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as KeysFile;
    return new PlatformKeystore(file, parsed.keys, await PlatformKeystore.importActive(parsed.keys));
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

  /** Public keys, newest first, for /.well-known/jwks.json. */
  publicJwks(): { keys: JWK[] } {
    return { keys: [...this.stored].reverse().map((k) => toPublicJwk(k.privateJwk)) };
  }

  /**
   * Verification key lookup by `kid`. Another process may have rotated the shared keys file,
   * so an unknown kid re-reads the file (at most once a second) before failing.
   */
  keyResolver(): JWTVerifyGetKey {
    let local = createLocalJWKSet(this.publicJwks());
    let lastReload = 0;
    return async (header, token) => {
      try {
        return await local(header, token);
      } catch (err) {
        if (!this.file || Date.now() - lastReload < 1000) throw err;
        lastReload = Date.now();
        this.stored = (JSON.parse(readFileSync(this.file, 'utf8')) as KeysFile).keys;
        local = createLocalJWKSet(this.publicJwks());
        return local(header, token);
      }
    };
  }

  /**
   * node:crypto public keys by kid, for es256.ts verification. An unknown kid re-reads the keys
   * file (at most once a second), as keyResolver() does.
   */
  publicKeyLookup(): (kid: string) => KeyObject | undefined {
    const cache = new Map<string, KeyObject>();
    let lastReload = 0;
    const fill = () => {
      for (const k of this.stored) if (!cache.has(k.kid)) cache.set(k.kid, createPublicKey({ key: toPublicJwk(k.privateJwk) as import('node:crypto').JsonWebKey, format: 'jwk' }));
    };
    fill();
    return (kid) => {
      const hit = cache.get(kid);
      if (hit || !this.file || Date.now() - lastReload < 1000) return hit;
      lastReload = Date.now();
      try {
        this.stored = (JSON.parse(readFileSync(this.file, 'utf8')) as KeysFile).keys;
        fill();
      } catch {
        /* keep what we have */
      }
      return cache.get(kid);
    };
  }

  /** Adds a new active key; older keys stay published until retired. */
  async rotate(): Promise<string> {
    const { kid, privateJwk } = await generateSigningJwk();
    this.stored.push({ kid, createdAt: new Date().toISOString(), privateJwk });
    if (this.file) writeAtomically(this.file, JSON.stringify({ keys: this.stored }, null, 2));
    this.active = await PlatformKeystore.importActive(this.stored);
    return kid;
  }
}
