// The bus envelope: CloudEvents 1.0 attributes plus routing fields (DESIGN §4).
import { createHash } from 'node:crypto';
import { uuidv7 } from './uuid7.js';

export interface Party {
  member: string;
  system: string;
}

export interface Destination {
  member: string;
  service: string;
}

export interface Envelope<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: 'application/json';
  from: Party;
  to: Destination;
  correlationId: string;
  payloadDigest: string;
  data: T;
}

/**
 * The JSON each payload object was digested from, as UTF-8 bytes, kept by createEnvelope:
 * sealing (or any later serialisation of the same payload) reuses it instead of stringifying the
 * payload again (a 100 KiB payload: one serialisation per message, not two), and is then byte for
 * byte what payloadDigest covers. Kept as bytes, not as the text: a payload with any Vietnamese
 * in it is a two-byte string in V8, twice its UTF-8 size, and at 100 KiB that string goes to the
 * large-object space, freed only by a full collection; held from acceptance to Kafka's
 * acknowledgement, those strings were the largest part of the gateway's heap peak. The text now
 * dies young, and its UTF-8 form is what the digest and the cipher read anyway. Keyed weakly: an
 * envelope's payload lives as long as the envelope. A payload is not changed after
 * createEnvelope: its digest would no longer match it either.
 */
const payloadJsonUtf8 = new WeakMap<object, Buffer>();

/** The JSON of a payload as UTF-8: the bytes it was digested from when createEnvelope made it. */
export function payloadJson(data: unknown): Buffer {
  return (data !== null && typeof data === 'object' && payloadJsonUtf8.get(data)) || Buffer.from(JSON.stringify(data));
}

/**
 * payloadJson() for the payload's last serialisation (sealing it into its record): the bytes
 * are forgotten, so they are not held beside the sealed record while it waits for PostgreSQL and
 * Kafka. A later payloadJson() of the same payload stringifies it again (the same bytes).
 */
export function takePayloadJson(data: unknown): Buffer {
  const json = payloadJson(data);
  if (data !== null && typeof data === 'object') payloadJsonUtf8.delete(data);
  return json;
}

/** RFC 9530 style digest of the payload's canonical JSON bytes (text is hashed as UTF-8). */
export function payloadDigest(payloadJson: string | Uint8Array): string {
  return 'sha-256=' + createHash('sha256').update(payloadJson).digest('base64');
}

// Printable ASCII text is NFC already; the test is much cheaper than ICU's normalize() (most keys and
// codes in a payload are ASCII).
const NON_ASCII = /[^ -~\t\n\r]/;
const nfc = (s: string) => (NON_ASCII.test(s) ? s.normalize('NFC') : s);

/** Vietnamese text must be NFC end to end (DESIGN §7); normalise every string in a payload. */
export function normalizeNfc<T>(value: T): T {
  if (typeof value === 'string') return nfc(value) as T;
  if (Array.isArray(value)) return value.map(normalizeNfc) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[nfc(k)] = normalizeNfc(v);
    return out as T;
  }
  return value;
}

export function createEnvelope<T>(input: {
  id?: string;
  type: string;
  from: Party;
  to: Destination;
  correlationId?: string;
  data: T;
  time?: Date;
}): Envelope<T> {
  const id = input.id ?? uuidv7();
  const json = Buffer.from(JSON.stringify(input.data));
  if (input.data !== null && typeof input.data === 'object') payloadJsonUtf8.set(input.data, json);
  return {
    specversion: '1.0',
    id,
    source: `urn:lgsp:${input.from.member}:${input.from.system}`,
    type: input.type,
    time: (input.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    from: input.from,
    to: input.to,
    correlationId: input.correlationId ?? id,
    payloadDigest: payloadDigest(json),
    data: input.data,
  };
}

/**
 * A string that sorts messages in the order the bus accepted them: the gateway's acceptance
 * time (`time`, ISO 8601 to the millisecond), then the id. Not the id alone: most ids are
 * UUIDv7 and sort by time, but a message sent with an Idempotency-Key has an id derived from the
 * key and the body (idempotent-message-id.ts, UUIDv8) so that a retry names the same message, and
 * such ids sort at random. Compare with < and >, as "newest update wins" guards do.
 */
export function acceptanceOrder(envelope: Pick<Envelope, 'time' | 'id'>): string {
  return `${envelope.time}|${envelope.id}`;
}

export function verifyPayloadDigest(envelope: Envelope): boolean {
  return payloadDigest(JSON.stringify(envelope.data)) === envelope.payloadDigest;
}
