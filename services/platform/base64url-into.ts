// Bytes written as base64url into a buffer that is being filled, without the whole encoding
// as one string first. A string over about 128 KiB goes to V8's large-object space, which only a
// full (mark-sweep) collection frees: a 100 KiB ciphertext's base64url text is 137 KiB, so at a
// few hundred such messages a second those strings alone held 20-odd MB of the gateway's heap
// between collections. Encoded in slices of 48 KiB (a multiple of 3, so no slice but the last
// ends in a partial group), each slice's text is 64 KiB, short-lived, and freed by the young
// generation's cheap scavenges.
const SLICE_BYTES = 48 * 1024;

/** The length of the unpadded base64url encoding of `byteLength` bytes. */
export function base64urlLength(byteLength: number): number {
  const rest = byteLength % 3;
  return Math.floor(byteLength / 3) * 4 + (rest === 0 ? 0 : rest + 1);
}

/** Writes `bytes` as unpadded base64url into `target` at `offset`; returns the characters written. */
export function writeBase64url(target: Buffer, offset: number, bytes: Uint8Array): number {
  const source = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = offset;
  for (let start = 0; start < source.length; start += SLICE_BYTES) {
    at += target.write(source.subarray(start, start + SLICE_BYTES).toString('base64url'), at, 'latin1');
  }
  return at - offset;
}
