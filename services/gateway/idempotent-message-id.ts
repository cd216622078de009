// The message ids of a submission sent with an Idempotency-Key are derived from the client, the
// key and the body, not drawn at random. A produce that times out has an unknown outcome: Kafka
// may still append the record after the gateway answered 503. The client's retry (same key, same
// body) then makes the very same message ids, so whatever reaches Kafka twice is one message: the
// runner's delivery ledger skips an id already delivered, and a receiver deduplicating by
// LGSP-Message-Id sees one id. The body's digest is part of the derivation, so a key reused after
// its 24 hours with another body names new messages. UUIDv8 (RFC 9562, custom): the hash's bytes
// with the version and variant bits set.
import { createHash } from 'node:crypto';

export function idempotentMessageId(clientId: string, key: string, bodyDigest: string, recipientIndex: number): string {
  const h = createHash('sha256').update(`${clientId}\u0000${key}\u0000${bodyDigest}\u0000${recipientIndex}`).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
