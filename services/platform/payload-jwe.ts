// Payload encryption on the bus and in the stores: standard compact JWE (RFC 7516) with
// `alg: ECDH-ES+A256KW` and `enc: A256GCM` (RFC 7518 §4.6, §5.3), on node:crypto directly.
// jose's CompactEncrypt makes a fresh ECDH agreement and key wrap per call (~1 ms on these
// machines); here one content-encryption key (CEK) is agreed and wrapped per *key session* and
// reused for the records that follow, each with its own 96-bit IV, so the per-message cost is
// one AES-GCM pass (microseconds). Every record stays a self-contained compact JWE that any JOSE
// library decrypts with the recipient's private key (test/payload-jwe.test.ts checks jose does).
//
// Why sessions bounded by count and age rather than "one CEK per produced Kafka batch": the
// payload is sealed where the envelope is serialised (the gateway's route, the runner's deposit
// and reply), before the producer's micro-batching decides which records travel together, so
// sealing needs no hook inside the producer and the same code serves stores. The amortisation is
// the same (one ECDH per session instead of per batch), and the bound keeps one CEK from
// covering more than MAX_RECORDS_PER_CEK records or MAX_CEK_AGE_MS of traffic.
//
// IVs: the deterministic construction of NIST SP 800-38D §8.2.1 — a random 32-bit field fixed per
// CEK and a 64-bit counter — so two records under one CEK can never share an IV (random 96-bit
// IVs would only make it unlikely), without a random draw per record.
//
// The protected header (alg, enc, kid, epk, cty) is the AES-GCM additional authenticated data:
// a changed header, IV, ciphertext or tag fails the tag check. Decryption happens only after the
// record's signature verified (callers' order), so unsigned bytes are never decrypted.
import { createCipheriv, createDecipheriv, createHash, createPublicKey, createSecretKey, diffieHellman, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';

// Symmetric keys reach createCipheriv/createDecipheriv as secret KeyObjects, never as Buffers: on
// Node 24 a Buffer key is first tested for KeyObject and CryptoKey by catching two exceptions
// (internal/crypto/keys.js prepareSecretKey) — measured here, 122 µs per AES-GCM seal of 300
// bytes with a Buffer key, 16 µs with a KeyObject made once per CEK.

export const JWE_ALG = 'ECDH-ES+A256KW';
export const JWE_ENC = 'A256GCM';
/** A CEK encrypts at most this many records before the next session's ECDH. */
export const MAX_RECORDS_PER_CEK = 10_000;
/** …and for at most this long, so a key rotation or a quiet period starts a fresh one. */
export const MAX_CEK_AGE_MS = 60_000;
const KEY_WRAP_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

export interface RecipientKey {
  kid: string;
  /** The recipient's P-256 public key. */
  key: KeyObject;
}

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

/** No private key with the JWE's kid (yet): a rotation may not have reached this process. */
export class UnknownDecryptionKeyError extends PayloadDecryptionError {
  override name = 'UnknownDecryptionKeyError';
}

function lengthPrefixed(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** RFC 7518 §4.6.2: Concat KDF (NIST SP 800-56A) for a 256-bit key-encryption key, no apu/apv. */
function keyEncryptionKey(sharedSecret: Buffer): Buffer {
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(256);
  const otherInfo = Buffer.concat([lengthPrefixed(Buffer.from(JWE_ALG)), lengthPrefixed(Buffer.alloc(0)), lengthPrefixed(Buffer.alloc(0)), suppPubInfo]);
  return createHash('sha256').update(Buffer.from([0, 0, 0, 1])).update(sharedSecret).update(otherInfo).digest();
}

/** RFC 3394 AES key wrap with the default IV, as A256KW requires. */
function wrapKey(kek: Buffer, cek: Buffer): Buffer {
  const c = createCipheriv('id-aes256-wrap', createSecretKey(kek), KEY_WRAP_IV);
  return Buffer.concat([c.update(cek), c.final()]);
}

function unwrapKey(kek: Buffer, wrapped: Buffer): Buffer {
  const d = createDecipheriv('id-aes256-wrap', createSecretKey(kek), KEY_WRAP_IV);
  return Buffer.concat([d.update(wrapped), d.final()]);
}

/** One ECDH-ES agreement with `recipient` and the CEK wrapped under the derived key. */
function wrapFor(recipient: RecipientKey, cek: Buffer): { header: { alg: typeof JWE_ALG; kid: string; epk: JsonWebKey }; encryptedKey: string } {
  const ephemeral = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.key });
  const { kty, crv, x, y } = ephemeral.publicKey.export({ format: 'jwk' });
  return { header: { alg: JWE_ALG, kid: recipient.kid, epk: { kty, crv, x, y } }, encryptedKey: wrapKey(keyEncryptionKey(shared), cek).toString('base64url') };
}

/**
 * A JWE in the general JSON serialization (RFC 7516 §7.2.1) without its `ciphertext` member:
 * stores keep the ciphertext as raw bytes beside it (base64url would add a third to a 20 MB
 * attachment). Put the ciphertext back, base64url-encoded, and any JOSE library decrypts it.
 */
export interface DetachedGeneralJwe {
  protected: string;
  recipients: Array<{ header: { alg: string; kid: string; epk: JsonWebKey }; encrypted_key: string }>;
  iv: string;
  tag: string;
}

/**
 * Seals bytes for several recipients at once (each can open them with its own key): one CEK,
 * wrapped per recipient. For stored objects read by more than one service (attachments: the
 * runner delivers them, the gateway serves downloads); one ECDH per recipient and object.
 */
export function sealForRecipients(plaintext: Buffer, recipients: RecipientKey[]): { jwe: DetachedGeneralJwe; ciphertext: Buffer } {
  const cek = randomBytes(32);
  const protectedB64 = Buffer.from(JSON.stringify({ enc: JWE_ENC })).toString('base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', createSecretKey(cek), iv);
  cipher.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ciphertext = gcmOutput(cipher.update(plaintext), cipher.final());
  return {
    jwe: {
      protected: protectedB64,
      recipients: recipients.map((r) => {
        const { header, encryptedKey } = wrapFor(r, cek);
        return { header, encrypted_key: encryptedKey };
      }),
      iv: iv.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
    },
    ciphertext,
  };
}

interface CekSession {
  kid: string;
  cek: KeyObject;
  /** BASE64URL(UTF8(protected header)): the first JWE part and the AAD. */
  protectedB64: string;
  aad: Buffer;
  encryptedKeyB64: string;
  ivPrefix: Buffer;
  counter: bigint;
  records: number;
  startedAt: number;
}

/**
 * Seals payloads for one receiving side (its current public key, asked for each session: a
 * rotation published in the keyset takes effect at the next session, or at once when the kid
 * changed).
 */
export class PayloadSealer {
  private session: CekSession | null = null;
  /** Sessions started (one ECDH and key wrap each): for tests and the bench. */
  sessions = 0;

  constructor(
    private readonly recipient: () => RecipientKey,
    private readonly limits: { maxRecords?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {}

  private currentSession(): CekSession {
    const now = (this.limits.now ?? Date.now)();
    const recipient = this.recipient();
    const s = this.session;
    if (s && s.kid === recipient.kid && s.records < (this.limits.maxRecords ?? MAX_RECORDS_PER_CEK) && now - s.startedAt < (this.limits.maxAgeMs ?? MAX_CEK_AGE_MS)) return s;
    return (this.session = this.startSession(recipient, now));
  }

  private startSession(recipient: RecipientKey, now: number): CekSession {
    const cek = randomBytes(32);
    const { header, encryptedKey } = wrapFor(recipient, cek);
    const protectedB64 = Buffer.from(JSON.stringify({ ...header, enc: JWE_ENC, cty: 'json' })).toString('base64url');
    this.sessions++;
    return {
      kid: recipient.kid,
      cek: createSecretKey(cek),
      protectedB64,
      aad: Buffer.from(protectedB64, 'ascii'),
      encryptedKeyB64: encryptedKey,
      ivPrefix: randomBytes(4),
      counter: 0n,
      records: 0,
      startedAt: now,
    };
  }

  /** A compact JWE of `plaintext` (UTF-8 when a string). */
  seal(plaintext: string | Buffer): string {
    const [protectedB64, encryptedKey, iv, ciphertext, tag] = this.sealParts(plaintext);
    return [protectedB64, encryptedKey, iv, ciphertext.toString('base64url'), tag].join('.');
  }

  /**
   * The five parts of seal()'s compact JWE, not yet joined, and the ciphertext not yet encoded
   * (the other four are base64url): a caller that writes them into a larger value (a record's
   * envelope) need not build the joined text nor the ciphertext's, each as long as the payload
   * and a third.
   */
  sealParts(plaintext: string | Buffer): JweParts {
    const s = this.currentSession();
    const iv = Buffer.alloc(12);
    s.ivPrefix.copy(iv, 0);
    iv.writeBigUInt64BE(s.counter++, 4);
    s.records++;
    const cipher = createCipheriv('aes-256-gcm', s.cek, iv);
    cipher.setAAD(s.aad);
    const ciphertext = gcmOutput(cipher.update(plaintext), cipher.final());
    return [s.protectedB64, s.encryptedKeyB64, iv.toString('base64url'), ciphertext, cipher.getAuthTag().toString('base64url')];
  }
}

/** A compact JWE's five parts: protected header, encrypted key, IV and tag in base64url, the ciphertext as bytes. */
export type JweParts = [string, string, string, Buffer, string];

/**
 * What update() and final() of an AES-GCM (de)cipher gave, as one buffer. GCM is a stream mode:
 * final() adds no bytes (it checks or makes the tag, and throws when a tag does not authenticate,
 * before anything is returned), so the update's output is returned as it is, not copied into a
 * joined buffer — 100 KiB less per 100 KiB payload sealed or opened.
 */
function gcmOutput(updated: Buffer, final: Buffer): Buffer {
  return final.length === 0 ? updated : Buffer.concat([updated, final]);
}

/** The private keys one service decrypts with, by kid (current and earlier ones). */
export type DecryptionKeyLookup = (kid: string) => KeyObject | undefined;

const COMPACT_JWE = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

/** Whether a value has the shape of a compact JWE (five base64url parts); not a validity check. */
export function looksLikeCompactJwe(value: unknown): value is string {
  return typeof value === 'string' && COMPACT_JWE.test(value);
}

/**
 * Opens what a PayloadSealer (or any JOSE library, with these algorithms) sealed for this
 * service. Unwrapped CEKs are cached by protected header and wrapped key, so a session's records
 * cost one ECDH in all, not one each.
 */
export class PayloadOpener {
  private readonly ceks = new Map<string, KeyObject>();

  constructor(
    private readonly privateKey: DecryptionKeyLookup,
    private readonly cacheSize = 1000,
  ) {}

  open(jwe: string): Buffer {
    const m = COMPACT_JWE.exec(jwe);
    if (!m) throw new PayloadDecryptionError('not a compact JWE with a 96-bit IV and a 128-bit tag');
    const [, protectedB64, encryptedKeyB64, ivB64, ciphertextB64, tagB64] = m;
    const cek = this.cek(protectedB64, encryptedKeyB64);
    try {
      const decipher = createDecipheriv('aes-256-gcm', cek, Buffer.from(ivB64, 'base64url'));
      decipher.setAAD(Buffer.from(protectedB64, 'ascii'));
      decipher.setAuthTag(Buffer.from(tagB64, 'base64url'));
      return gcmOutput(decipher.update(Buffer.from(ciphertextB64, 'base64url')), decipher.final());
    } catch {
      throw new PayloadDecryptionError('payload ciphertext, IV, tag or header does not authenticate');
    }
  }

  private cek(protectedB64: string, encryptedKeyB64: string): KeyObject {
    const cacheKey = `${protectedB64}.${encryptedKeyB64}`;
    const cached = this.ceks.get(cacheKey);
    if (cached) return cached;
    let header: { alg?: unknown; enc?: unknown; kid?: unknown; epk?: JsonWebKey; zip?: unknown; crit?: unknown };
    try {
      header = JSON.parse(Buffer.from(protectedB64, 'base64url').toString('utf8')) as typeof header;
    } catch {
      throw new PayloadDecryptionError('JWE protected header is not JSON');
    }
    if (header.enc !== JWE_ENC) throw new PayloadDecryptionError(`JWE must use ${JWE_ALG} with ${JWE_ENC}`);
    if (header.zip !== undefined || header.crit !== undefined) throw new PayloadDecryptionError('JWE header members zip and crit are not accepted');
    const cek = createSecretKey(this.unwrap(header, encryptedKeyB64));
    this.ceks.set(cacheKey, cek);
    if (this.ceks.size > this.cacheSize) this.ceks.delete(this.ceks.keys().next().value as string);
    return cek;
  }

  /** The CEK a recipient header (alg, kid, epk) and its wrapped key carry, for this service. */
  private unwrap(header: { alg?: unknown; kid?: unknown; epk?: JsonWebKey }, encryptedKeyB64: string): Buffer {
    if (header.alg !== JWE_ALG) throw new PayloadDecryptionError(`JWE must use ${JWE_ALG} with ${JWE_ENC}`);
    if (typeof header.kid !== 'string') throw new PayloadDecryptionError('JWE header has no kid');
    const privateKey = this.privateKey(header.kid);
    if (!privateKey) throw new UnknownDecryptionKeyError(`no payload-encryption key with kid ${header.kid} here`);
    const epk = header.epk;
    if (!epk || epk.kty !== 'EC' || epk.crv !== 'P-256' || 'd' in epk) throw new PayloadDecryptionError('JWE epk must be a public P-256 key');
    let cek: Buffer;
    try {
      // createPublicKey refuses a point that is not on the curve (invalid-curve attacks).
      const ephemeral = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: epk.x, y: epk.y }, format: 'jwk' });
      cek = unwrapKey(keyEncryptionKey(diffieHellman({ privateKey, publicKey: ephemeral })), Buffer.from(encryptedKeyB64, 'base64url'));
    } catch {
      throw new PayloadDecryptionError('JWE key agreement or key unwrap failed (wrong key or tampered header)');
    }
    if (cek.length !== 32) throw new PayloadDecryptionError('JWE content-encryption key is not 256 bits');
    return cek;
  }

  /** Opens what sealForRecipients() sealed, with whichever recipient entry is this service's. */
  openDetached(jwe: DetachedGeneralJwe, ciphertext: Buffer): Buffer {
    let header: { enc?: unknown; zip?: unknown; crit?: unknown };
    try {
      header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as typeof header;
    } catch {
      throw new PayloadDecryptionError('JWE protected header is not JSON');
    }
    if (header.enc !== JWE_ENC || header.zip !== undefined || header.crit !== undefined) throw new PayloadDecryptionError(`JWE must use ${JWE_ENC}, without zip or crit`);
    // A shorter tag would be accepted by node:crypto: insist on the full 128 bits (and a 96-bit IV).
    if (!/^[A-Za-z0-9_-]{16}$/.test(jwe.iv) || !/^[A-Za-z0-9_-]{22}$/.test(jwe.tag)) throw new PayloadDecryptionError('JWE needs a 96-bit IV and a 128-bit tag');
    const mine = jwe.recipients.find((r) => typeof r.header?.kid === 'string' && this.privateKey(r.header.kid));
    if (!mine) throw new UnknownDecryptionKeyError(`none of the keys ${jwe.recipients.map((r) => String(r.header?.kid)).join(', ')} is here`);
    const cek = createSecretKey(this.unwrap(mine.header, mine.encrypted_key));
    try {
      const decipher = createDecipheriv('aes-256-gcm', cek, Buffer.from(jwe.iv, 'base64url'));
      decipher.setAAD(Buffer.from(jwe.protected, 'ascii'));
      decipher.setAuthTag(Buffer.from(jwe.tag, 'base64url'));
      return gcmOutput(decipher.update(ciphertext), decipher.final());
    } catch {
      throw new PayloadDecryptionError('ciphertext, IV, tag or header does not authenticate');
    }
  }
}
