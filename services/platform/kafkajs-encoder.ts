// kafkajs 2.2.4 builds every request by nesting encoders, each copying what the one inside it
// wrote: a produce request copies its record values ten times on the way to the socket (record →
// batch body → batch → length-prefixed batch → partition → topic → request body → frame), each
// copy into a new zero-filled buffer grown by powers of two, and every varint is a Buffer of its
// own (`Buffer.from([bytes])`, some twenty per record). For a gateway sending 100 KiB messages
// that was some 15 MB of buffers allocated per produce request of five records, outside V8's
// heap, freed only when the garbage collector got to them: most of the gateway's memory peak in
// the bench's 100 KiB phase, and CPU for zeroing and copying.
//
// The patch keeps the bytes identical (test/kafkajs-encoder.test.ts compares them with the
// library's own encoder) and changes how they are gathered:
//  - a piece of 32 KiB or more (a record value, or an inner encoder's pieces) is kept by
//    reference instead of copied; the pieces are joined once, when someone reads `buffer` (for
//    a produce request, the frame the connection writes: kafkajs-record-batch.ts writes the
//    record batch without reading it), and the joined buffer replaces them;
//  - buffers grow without zero-filling (only the bytes written are ever read: `buffer` is cut at
//    the write offset);
//  - varints are written straight into the buffer.
// Patched on the prototype of the module kafkajs itself loads (one CommonJS instance per
// process), like kafkajs-request-queue-fix.ts.
import { createRequire } from 'node:module';

/** Pieces at least this long are kept by reference rather than copied. */
export const BY_REFERENCE_BYTES = 32 * 1024;

interface EncoderInternals {
  buf: Buffer;
  offset: number;
  /** Bytes before `buf`, in order (absent until a piece is kept by reference). */
  pieces?: Buffer[];
  /** Their total length. */
  piecesLength?: number;
  ensureAvailable(length: number): void;
  writeBufferInternal(buffer: Buffer): void;
  readonly buffer: Buffer;
}

/** What kafkajs-record-batch.ts writes with (the library's Encoder, chained writes). */
export interface KafkajsEncoder {
  writeInt8(value: number): KafkajsEncoder;
  writeInt16(value: number): KafkajsEncoder;
  writeInt32(value: number): KafkajsEncoder;
  writeUInt32(value: number): KafkajsEncoder;
  writeInt64(value: unknown): KafkajsEncoder;
  writeArray(values: unknown[], type?: string): KafkajsEncoder;
  writeEncoder(value: KafkajsEncoder): KafkajsEncoder;
  size(): number;
  readonly buffer: Buffer;
}

/** An encoder's bytes as the pieces it holds, in order (nothing joined). */
export function encoderPieces(encoder: KafkajsEncoder): Buffer[] {
  const e = encoder as unknown as EncoderInternals;
  return [...(e.pieces ?? []), e.buf.subarray(0, e.offset)];
}

interface EncoderClass {
  prototype: EncoderInternals;
  nextPowerOfTwo(value: number): number;
  /** kafkajs's Long: a BigInt inside. */
  encodeZigZag64(value: unknown): { value: bigint };
}

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
const proto = Encoder.prototype;

function isEncoder(value: unknown): value is EncoderInternals {
  return value !== null && typeof value === 'object' && Buffer.isBuffer((value as EncoderInternals).buf);
}

proto.ensureAvailable = function ensureAvailable(this: EncoderInternals, length: number): void {
  if (this.offset + length <= this.buf.length) return;
  const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
  this.buf.copy(grown, 0, 0, this.offset);
  this.buf = grown;
};

proto.writeBufferInternal = function writeBufferInternal(this: EncoderInternals, buffer: Buffer): void {
  const length = buffer.length;
  if (length < BY_REFERENCE_BYTES) {
    this.ensureAvailable(length);
    buffer.copy(this.buf, this.offset, 0);
    this.offset += length;
    return;
  }
  this.pieces ??= [];
  this.piecesLength ??= 0;
  if (this.offset > 0) {
    // What was written so far becomes a piece; writing goes on in the rest of the same buffer.
    this.pieces.push(this.buf.subarray(0, this.offset));
    this.piecesLength += this.offset;
    this.buf = this.buf.subarray(this.offset);
    this.offset = 0;
  }
  this.pieces.push(buffer);
  this.piecesLength += length;
};

Object.defineProperty(proto, 'buffer', {
  configurable: true,
  get(this: EncoderInternals): Buffer {
    if (!this.pieces) return this.buf.subarray(0, this.offset);
    const joined = Buffer.concat([...this.pieces, this.buf.subarray(0, this.offset)], this.piecesLength! + this.offset);
    // Read again (the connection reads a frame's `buffer` twice): joined once.
    this.pieces = undefined;
    this.piecesLength = undefined;
    this.buf = joined;
    this.offset = joined.length;
    return joined;
  },
});

/** An inner encoder's bytes, its pieces kept by reference (no join). */
function writeEncoderBytes(target: EncoderInternals, inner: EncoderInternals): void {
  if (inner.pieces) for (const piece of inner.pieces) target.writeBufferInternal(piece);
  target.writeBufferInternal(inner.buf.subarray(0, inner.offset));
}

const writeBytesOfAnyKind = (proto as unknown as { writeBytes(value: unknown): unknown }).writeBytes;

Object.assign(proto, {
  // The library reserved room for the whole value before writing it: a buffer of the value's
  // size allocated for nothing when the value is kept by reference.
  writeBytes(this: EncoderInternals & { writeInt32(value: number): void }, value: unknown) {
    if (!Buffer.isBuffer(value)) return writeBytesOfAnyKind.call(this, value);
    this.writeInt32(value.length);
    this.writeBufferInternal(value);
    return this;
  },

  size(this: EncoderInternals): number {
    return (this.piecesLength ?? 0) + this.offset;
  },

  writeEncoder(this: EncoderInternals, value: unknown) {
    if (!isEncoder(value)) throw new Error('value should be an instance of Encoder');
    writeEncoderBytes(this, value);
    return this;
  },

  writeEncoderArray(this: EncoderInternals, values: unknown) {
    if (!Array.isArray(values) || !values.every(isEncoder)) throw new Error('all values should be an instance of Encoder[]');
    for (const value of values) writeEncoderBytes(this, value);
    return this;
  },

  writeUVarInt(this: EncoderInternals, value: number) {
    this.ensureAvailable(5);
    // LEB128, as kafkajs writes it: seven bits a byte, the high bit set on all but the last.
    while ((value & 0xffffff80) !== 0) {
      this.buf[this.offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.offset++] = value & 0x7f;
    return this;
  },

  writeVarLong(this: EncoderInternals, value: unknown) {
    this.ensureAvailable(10);
    // The same LEB128 over the zigzag-encoded 64-bit value (kafkajs's Long wraps a BigInt).
    let long = Encoder.encodeZigZag64(value).value;
    while ((long & 0xffffffffffffff80n) !== 0n) {
      this.buf[this.offset++] = Number((long & 0x7fn) | 0x80n);
      long >>= 7n;
    }
    this.buf[this.offset++] = Number(BigInt.asIntN(32, long)) & 0xff;
    return this;
  },
});
