// kafkajs builds a produce request's record batch (RecordBatch v0, what every produce carries)
// by joining the batch body into one buffer to compute its CRC, then joining the whole batch
// again to prefix its length: with records kept by reference (kafkajs-encoder.ts) those were two
// more copies of every record value, and the CRC-32C ran a byte at a time in JavaScript (about
// 1% of a busy gateway at 1 KiB, more at 100 KiB). For an uncompressed batch — the bus never
// compresses — this writes the same bytes from the pieces: the CRC over the pieces, eight bytes
// a step, and the length from the encoder's size. Compressed batches are the library's own.
// The record batch is patched on the module kafkajs loads, before any produce request
// (the produce request modules take RecordBatch when first used); the bytes are checked against
// the library's own in test/kafkajs-encoder.test.ts.
import { createRequire } from 'node:module';
import { encoderPieces, type KafkajsEncoder } from './kafkajs-encoder.js';

type RecordBatchArgs = Record<string, unknown> & { compression?: number; records?: KafkajsEncoder[] };
type RecordBatch = (args: RecordBatchArgs) => Promise<KafkajsEncoder>;

const require = createRequire(import.meta.url);
const batchModule = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: RecordBatch; MAGIC_BYTE: number };
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder;
const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): unknown; fromValue(v: unknown): unknown };

const COMPRESSION_CODEC_MASK = 0x07;
const TRANSACTIONAL_MASK = 0x10;

/** CRC-32C (Castagnoli, reflected 0x82F63B78) tables for eight bytes a step. */
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i] >>> 8) ^ t[t[(s - 1) * 256 + i] & 0xff];
  return t;
})();

function crc32cUpdate(crc: number, bytes: Uint8Array): number {
  const t = CRC_TABLES;
  let c = crc;
  let i = 0;
  for (const end = bytes.length - 7; i < end; i += 8) {
    const low = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c = t[7 * 256 + (low & 0xff)] ^ t[6 * 256 + ((low >>> 8) & 0xff)] ^ t[5 * 256 + ((low >>> 16) & 0xff)] ^ t[4 * 256 + (low >>> 24)] ^
      t[3 * 256 + bytes[i + 4]] ^ t[2 * 256 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return c;
}

/** CRC-32C of the bytes of `pieces`, in order, as kafkajs computes it (unsigned). */
export function crc32c(pieces: readonly Uint8Array[]): number {
  let c = -1;
  for (const piece of pieces) c = crc32cUpdate(c, piece);
  return (c ^ -1) >>> 0;
}

const libraryRecordBatch = batchModule.RecordBatch;

batchModule.RecordBatch = async function recordBatchFromPieces(args: RecordBatchArgs): Promise<KafkajsEncoder> {
  const {
    compression = 0,
    firstOffset = Long.fromInt(0),
    firstTimestamp = Date.now(),
    maxTimestamp = Date.now(),
    partitionLeaderEpoch = 0,
    lastOffsetDelta = 0,
    transactional = false,
    producerId = Long.fromValue(-1),
    producerEpoch = 0,
    firstSequence = 0,
    records = [],
  } = args;
  if ((compression & COMPRESSION_CODEC_MASK) !== 0) return libraryRecordBatch(args);
  // The library's layout, field by field (recordBatch/v0/index.js).
  const batchBody = new Encoder()
    .writeInt16(transactional ? TRANSACTIONAL_MASK : 0)
    .writeInt32(lastOffsetDelta as number)
    .writeInt64(firstTimestamp)
    .writeInt64(maxTimestamp)
    .writeInt64(producerId)
    .writeInt16(producerEpoch as number)
    .writeInt32(firstSequence as number);
  if (records.every((r) => typeof r === typeof records[0])) batchBody.writeArray(records, typeof records[0]);
  else batchBody.writeArray(records);
  const batch = new Encoder()
    .writeInt32(partitionLeaderEpoch as number)
    .writeInt8(batchModule.MAGIC_BYTE)
    .writeUInt32(crc32c(encoderPieces(batchBody)))
    .writeEncoder(batchBody);
  // writeBytes(batch.buffer) in the library: the length, then the bytes (here by reference).
  return new Encoder().writeInt64(firstOffset).writeInt32(batch.size()).writeEncoder(batch);
};
