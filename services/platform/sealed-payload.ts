// Where payload encryption meets the envelope (payload-jwe.ts does the cryptography): on the bus
// and in the stores an envelope's `data` is a compact JWE sealed for the service that hands the
// payload to its recipient; every other member of the envelope (ids, type, parties, correlation
// id, payloadDigest) stays in clear, so operators, the audit and the ledger work on metadata.
// The record signature covers the sealed value: consumers check it before they open anything.
// A payload that is not a JWE (an object) is a record produced before payload encryption and is
// passed through as is: the gateway always seals, so on a running bus only records older than
// the upgrade look like that.
import { looksLikeCompactJwe, type PayloadOpener, type PayloadSealer } from './payload-jwe.js';
import { payloadDigest, payloadJson, takePayloadJson, verifyPayloadDigest, type Envelope } from './envelope.js';
import { base64urlLength, writeBase64url } from './base64url-into.js';

export class PayloadSealing {
  constructor(
    /** Seals for the service on the other side (the gateway seals for the runner and vice versa). */
    private readonly sealer: PayloadSealer,
    /** Opens what was sealed for this service. */
    readonly opener: PayloadOpener,
    /** Seals for this service itself: what it stores and alone reads back (document subjects). */
    private readonly ownSealer?: PayloadSealer,
  ) {}

  /** Text this service stores for itself, sealed (a compact JWE). */
  sealText(text: string): string {
    if (!this.ownSealer) throw new Error('this service seals nothing for itself');
    return this.ownSealer.seal(text);
  }

  /** Text sealText() stored; text stored before encryption as it is. */
  openText(stored: string): string {
    return looksLikeCompactJwe(stored) ? this.plaintextOf(stored) : stored;
  }

  /** What a compact JWE sealed for this service holds, as text (callers have checked the shape: the test scans the whole value). */
  private plaintextOf(jwe: string): string {
    return this.opener.open(jwe).toString('utf8');
  }

  /** A payload as a compact JWE of its JSON (the bytes payloadDigest was computed over). */
  seal(payload: unknown, json: string | Buffer = payloadJson(payload)): string {
    return this.sealer.seal(json);
  }

  /** The payload a seal() produced; an unsealed (legacy) payload as it is. Throws PayloadDecryptionError. */
  open<T = unknown>(data: unknown): T {
    return (looksLikeCompactJwe(data) ? JSON.parse(this.plaintextOf(data)) : data) as T;
  }

  /** The record value of an envelope, its payload sealed: the envelope's JSON as UTF-8 bytes. */
  sealedEnvelope(envelope: Envelope): Buffer {
    return envelopeJsonBytes(envelope, this.sealer.sealParts(takePayloadJson(envelope.data)));
  }

  /**
   * An envelope read from the bus, its payload opened, and whether the opened payload is what its
   * `payloadDigest` covers. A sealed payload's plaintext is the very JSON the gateway digested, so
   * its bytes are hashed as decrypted instead of parsed and stringified again (one serialisation
   * less per message); an unsealed (legacy) payload is stringified as before. Throws
   * PayloadDecryptionError.
   */
  openEnvelopeChecked<T = unknown>(envelope: Envelope<unknown>): { envelope: Envelope<T>; digestMatches: boolean } {
    if (!looksLikeCompactJwe(envelope.data)) return { envelope: envelope as Envelope<T>, digestMatches: verifyPayloadDigest(envelope) };
    const plaintext = this.opener.open(envelope.data);
    return { envelope: { ...envelope, data: JSON.parse(plaintext.toString('utf8')) as T }, digestMatches: payloadDigest(plaintext) === envelope.payloadDigest };
  }

  /** An envelope read from the bus or a store, its payload opened. */
  openEnvelope<T = unknown>(envelope: Envelope<unknown>): Envelope<T> {
    return looksLikeCompactJwe(envelope.data) ? { ...envelope, data: JSON.parse(this.plaintextOf(envelope.data)) as T } : (envelope as Envelope<T>);
  }
}

/**
 * The bytes of JSON.stringify({ ...envelope, data: jweParts.join('.') }) (a part given as bytes
 * is its base64url text), written into one buffer without building any of the strings first:
 * the ciphertext's text, the joined JWE and the envelope's text are each as long as the
 * payload and a third, so for a 100 KiB payload they were three strings of some 137 KiB per
 * message in V8's large-object space, then copied once more into the record's bytes. The text
 * parts are base64url (nothing to escape in JSON), so they go in as they are; the ciphertext is
 * encoded straight into the buffer, a slice at a time (base64url-into.ts). An envelope whose
 * last member is not `data` (none the bus makes) is written the plain way.
 */
export function envelopeJsonBytes(envelope: Envelope, jweParts: readonly (string | Buffer)[]): Buffer {
  const keys = Object.keys(envelope);
  if (keys[keys.length - 1] !== 'data') return Buffer.from(JSON.stringify({ ...envelope, data: jweParts.map(partText).join('.') }));
  const { data: _sealedApart, ...members } = envelope;
  const head = JSON.stringify(members);
  const opening = `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"data":"`;
  let length = Buffer.byteLength(opening) + (jweParts.length - 1) + 2;
  for (const part of jweParts) length += typeof part === 'string' ? part.length : base64urlLength(part.length);
  const bytes = Buffer.allocUnsafe(length);
  let at = bytes.write(opening);
  jweParts.forEach((part, i) => {
    if (i > 0) bytes[at++] = 0x2e; // '.'
    at += typeof part === 'string' ? bytes.write(part, at, 'latin1') : writeBase64url(bytes, at, part);
  });
  bytes.write('"}', at, 'latin1');
  return bytes;
}

/** A JWE part as text: bytes (the ciphertext) base64url-encoded. */
function partText(part: string | Buffer): string {
  return typeof part === 'string' ? part : part.toString('base64url');
}
