// What an audit entry keeps of the bus record it was made from, so that `lgsp audit verify` can
// re-check the record's own signature with public keys alone — not only the hash chain, which
// whoever can write to the audit database can recompute after rewriting an entry.
//
// Signed bytes: every bus record is signed by its producer as one leaf of a Merkle tree whose
// root is signed (record-signing.ts); the leaf is SHA-256 over the record value byte for byte.
// - An event record (lgsp.events) holds no message body, so the entry keeps the value itself:
//   the verifier checks its signature and that the entry's body is exactly the signed event.
// - A message record (lgsp.msg.*) is the signed envelope *with its payload*. The audit keeps
//   digests, never bodies, so the entry keeps the envelope minus payload (with payloadDigest)
//   and the record's leaf hash. The verifier proves that a record with that leaf was signed by
//   a platform key; the entry's fields cannot be re-derived from the leaf without the payload,
//   so for those the hash chain and the signed checkpoints remain the guard. (Binding them too
//   needs the producer to sign the envelope without its payload as the leaf — payloadDigest
//   already ties the payload to it — a change to record signing left for later.)
import { base64url } from 'jose';
import type { BusEvent } from '../platform/bus-events.js';
import { leafHash } from '../platform/merkle.js';
import { PROOF_HEADER, SIGNATURE_HEADER, RecordVerifier } from '../platform/record-signing.js';
import type { PublicKeyLookup } from '../platform/es256.js';
import { headerValue, type ConsumedRecord } from '../platform/signed-consumer.js';

export interface RecordEvidence {
  topic: string;
  partition: number;
  offset: string;
  /** The batch JWS (lgsp-sig header). */
  sig: string;
  /** The record's Merkle inclusion proof (lgsp-proof header). */
  proof: string;
  /** Event records: the signed value, as produced. */
  value?: string;
  /** Message records: base64url SHA-256 Merkle leaf of the signed value (the payload stays out). */
  leaf?: string;
}

/** An audit entry's body: the event, and where it was read from with its signature. */
export type EvidencedEvent = BusEvent & { record?: RecordEvidence };

/** The evidence of a verified record; `keepValue` for records that hold no message body. */
export function evidenceOf(record: ConsumedRecord, keepValue: boolean): RecordEvidence | undefined {
  const sig = headerValue(record.headers, SIGNATURE_HEADER);
  const proof = headerValue(record.headers, PROOF_HEADER);
  if (!sig || !proof || !record.value) return undefined;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    sig,
    proof,
    ...(keepValue ? { value: record.value.toString('utf8') } : { leaf: base64url.encode(leafHash(record.value)) }),
  };
}

/** The event without its evidence, as the producer signed it (event records) or described it. */
export function withoutEvidence(body: EvidencedEvent): BusEvent {
  const { record: _record, ...event } = body;
  return event;
}

/**
 * Why an entry's evidence does not prove its content, or null. Entries without evidence (made
 * by the audit service itself, e.g. for records that failed verification) pass: there is
 * nothing signed to check. `sameEvent` compares the entry with the signed event.
 */
export function evidenceProblem(body: EvidencedEvent, verifier: RecordVerifier, sameEvent: (a: BusEvent, b: unknown) => boolean): string | null {
  const ev = body.record;
  if (ev === undefined) return null;
  if (typeof ev !== 'object' || ev === null || typeof ev.sig !== 'string' || typeof ev.proof !== 'string') return 'record evidence is malformed';
  const headers = { [SIGNATURE_HEADER]: ev.sig, [PROOF_HEADER]: ev.proof };
  if (typeof ev.value === 'string') {
    const result = verifierResult(() => verifier.verifyLeaf(leafHash(Buffer.from(ev.value!, 'utf8')), headers));
    if (result) return result;
    let signed: unknown;
    try {
      signed = JSON.parse(ev.value);
    } catch {
      return 'signed record value is not JSON';
    }
    return sameEvent(withoutEvidence(body), signed) ? null : 'entry differs from the signed record it was made from (rewritten)';
  }
  if (typeof ev.leaf === 'string') {
    let leaf: Buffer;
    try {
      leaf = Buffer.from(base64url.decode(ev.leaf));
    } catch {
      return 'record evidence is malformed';
    }
    return verifierResult(() => verifier.verifyLeaf(leaf, headers));
  }
  return 'record evidence holds neither the signed value nor its leaf';
}

function verifierResult(check: () => ReturnType<RecordVerifier['verifyLeaf']>): string | null {
  const result = check();
  return result.ok ? null : `record signature does not verify: ${result.reason}`;
}

/** A verifier for the audit's evidence: public keys only, and no expiry (old entries stay valid). */
export function evidenceVerifier(lookup: PublicKeyLookup): RecordVerifier {
  return new RecordVerifier(lookup, { enforceExpiry: false });
}
