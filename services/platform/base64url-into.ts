// Bytes written as base64url into a buffer that is being filled, without the whole encoding
// as one string first. A string over about 128 KiB is a large object in V8: if a collection
// finds it alive (one can run while the record around it is still being written), it moves to
// the old generation's large-object space, which only a full collection frees. A 100 KiB
// ciphertext's base64url text is 137 KiB. Encoded in slices of 48 KiB (a multiple of 3, so no
// slice but the last ends in a partial group), each slice's text is 64 KiB, an ordinary young
// object. With the payload's JSON kept as bytes (envelope.ts), the gateway's large-object space
// peaked at 2 MB in the bench's 100 KiB phase instead of 23 (the two changes measured together).
import { bufferView } from './detached-jws.js';

const SLICE_BYTES = 48 * 1024;

/** The length of the unpadded base64url encoding of `byteLength` bytes. */
export function base64urlLength(byteLength: number): number {
  const rest = byteLength % 3;
  return Math.floor(byteLength / 3) * 4 + (rest === 0 ? 0 : rest + 1);
}

/** Writes `bytes` as unpadded base64url into `target` at `offset`; returns the characters written. */
export function writeBase64url(target: Buffer, offset: number, bytes: Uint8Array): number {
  const source = bufferView(bytes);
  let at = offset;
  for (let start = 0; start < source.length; start += SLICE_BYTES) {
    at += target.write(source.subarray(start, start + SLICE_BYTES).toString('base64url'), at, 'latin1');
  }
  return at - offset;
}
