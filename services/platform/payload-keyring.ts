// The payload-encryption keys (key purpose `payload-encryption`, payload-jwe.ts): an ECDH P-256
// key pair per receiving service. The private file, <keysDir>/<service>/payload-encryption.json,
// holds the current key *and every earlier one* (key-files.ts appends on rotation): whatever was
// sealed for an earlier key — a dead letter, an inbox item, a stored document — stays readable as
// long as it is kept. The file is watched like the signing keys' files, and a kid not found
// re-reads it at once (at most once a second): `lgsp keys rotate` writes this file before it
// publishes the public half, so by the time a sealer uses a new key its owner can open it.
import { readFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { JWE_ALG, PayloadOpener, PayloadSealer, sealForRecipients, type DetachedGeneralJwe, type RecipientKey } from './payload-jwe.js';
import type { KeyService } from './key-purposes.js';
import type { PublicKeyset } from './public-keyset.js';
import { keysWatchInterval, watchKeyFile, type KeyFileOptions, type KeyFileWatch } from './key-file-watch.js';

export interface StoredPrivateKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

const RELOAD_COOLDOWN_MS = 1000;

export async function generateEncryptionJwk(): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(privateJwk);
  Object.assign(privateJwk, { kid, alg: JWE_ALG, use: 'enc' });
  const { d: _d, ...publicJwk } = privateJwk;
  return { kid, privateJwk, publicJwk };
}

/** One service's decryption keys by kid, watched for rotations. */
export class DecryptionKeyring {
  private keys = new Map<string, KeyObject>();
  private lastReload = 0;

  private constructor(private readonly file: string) {}

  static open(file: string, opts: KeyFileOptions = {}): DecryptionKeyring {
    const ring = new DecryptionKeyring(file);
    ring.load();
    ring.watch(keysWatchInterval(opts.watchIntervalMs), { what: opts.what ?? 'payload-encryption key file', log: opts.log });
    return ring;
  }

  private load(): void {
    this.lastReload = Date.now();
    const stored = (JSON.parse(readFileSync(this.file, 'utf8')) as { keys: StoredPrivateKey[] }).keys;
    const keys = new Map<string, KeyObject>();
    for (const k of stored) keys.set(k.kid, createPrivateKey({ key: k.privateJwk as JsonWebKey, format: 'jwk' }));
    if (keys.size === 0) throw new Error(`${this.file} holds no keys`);
    this.keys = keys;
  }

  private watch(intervalMs: number, said: KeyFileWatch): void {
    if (intervalMs <= 0) return;
    watchKeyFile(
      this.file,
      intervalMs,
      () => {
        this.load();
        return `${this.keys.size} decryption key${this.keys.size === 1 ? '' : 's'}`;
      },
      said,
    );
  }

  private reloadQuietly(): void {
    try {
      this.load();
    } catch {
      /* a half-written or broken file: keep the keys we have */
    }
  }

  /** The private key with `kid`, re-reading the file once when it is not (yet) known. */
  readonly lookup = (kid: string): KeyObject | undefined => {
    if (!this.keys.has(kid) && Date.now() - this.lastReload >= RELOAD_COOLDOWN_MS) this.reloadQuietly();
    return this.keys.get(kid);
  };
}

/** An opener over a service's keyring. */
export function payloadOpener(keyring: DecryptionKeyring): PayloadOpener {
  return new PayloadOpener(keyring.lookup);
}

/** A sealer for `recipient`'s current payload-encryption key, as the public keyset publishes it. */
export function sealerFor(keyset: PublicKeyset, recipient: KeyService): PayloadSealer {
  return new PayloadSealer((): RecipientKey => {
    const current = keyset.currentKey('payload-encryption', recipient);
    if (!current) throw new Error(`the public keyset holds no current payload-encryption key of the ${recipient} service (run \`lgsp keys init\`)`);
    return current;
  });
}

/** Which services read stored attachments: the runner delivers them, the gateway serves downloads. */
const ATTACHMENT_READERS: readonly KeyService[] = ['runner', 'gateway'];

/**
 * Encryption at rest for the attachment store (services/attachments): bytes sealed for every
 * reader's current key, opened with this service's own keys. Structurally the store's
 * AttachmentSealing (the platform library imports no service).
 */
export function attachmentSealing(keyset: PublicKeyset, opener: PayloadOpener): { seal(bytes: Buffer): { sealing: string; content: Buffer }; open(sealing: string, content: Buffer): Buffer } {
  return {
    seal(bytes) {
      const recipients = ATTACHMENT_READERS.map((service) => {
        const current = keyset.currentKey('payload-encryption', service);
        if (!current) throw new Error(`the public keyset holds no current payload-encryption key of the ${service} service (run \`lgsp keys init\`)`);
        return current;
      });
      const { jwe, ciphertext } = sealForRecipients(bytes, recipients);
      return { sealing: JSON.stringify(jwe), content: ciphertext };
    },
    open: (sealing, content) => opener.openDetached(JSON.parse(sealing) as DetachedGeneralJwe, content),
  };
}
