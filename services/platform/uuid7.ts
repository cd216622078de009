// UUIDv7 ids (RFC 9562) for messages and events: the uuid package's layout and monotonic
// sequence, with random bytes drawn from a pooled buffer. uuid's own v7 asks
// crypto.getRandomValues for 16 bytes per id — a WebCrypto call with its argument checks, 2.6% of
// the gateway's CPU in a bench profile (two ids per message); node:crypto's randomUUID() pools
// the same way.
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const POOL_BYTES = 16 * 256;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;

function random16(): Buffer {
  if (poolOffset + 16 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return bytes;
}

// As uuid's v7 without options: a new millisecond starts a random 31-bit sequence, ids within one
// millisecond count up from it (and borrow the next millisecond when it wraps), so ids of this
// process sort in creation order.
const state = { msecs: -Infinity, seq: 0 };

export function uuidv7(): string {
  const random = random16();
  const now = Date.now();
  if (now > state.msecs) {
    state.seq = ((random[6] & 0x7f) << 24) | (random[7] << 16) | (random[8] << 8) | random[9];
    state.msecs = now;
  } else {
    state.seq = (state.seq + 1) | 0;
    if (state.seq === 0) state.msecs++;
  }
  return v7({ random, msecs: state.msecs, seq: state.seq });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id as the bus stores it. UUIDs are case-insensitive on input (RFC 9562 §4) and the bus
 * issues them in lower case; a system that keeps them in a GUID column (SQL Server's
 * uniqueidentifier, many .NET and Java mappers) hands them back in upper case, and must still
 * find its message or acknowledge its inbox item. Anything that is not a UUID is left as it is.
 */
export function canonicalId(id: string): string {
  return UUID.test(id) ? id.toLowerCase() : id;
}
