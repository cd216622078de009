// Client secrets for legacy systems (client_secret_basic) are stored only as scrypt hashes.
// Verification runs scrypt on libuv's thread pool, never on the event loop (a synchronous scrypt
// per wrong secret let a flood of them stall every other request of the gateway), and at most
// `concurrency` at a time: scrypt is CPU-bound, so more parallel runs than cores would only
// take CPU from the event loop. Beyond a bounded queue the caller is told to come back later.
import { availableParallelism } from 'node:os';
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { ConcurrencyLimit } from './concurrency-limit.js';

const HASH_BYTES = 32;
/** A stored digest shorter than this is malformed: never compare against it. */
const MIN_DIGEST_BYTES = 16;

export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64url')}$${scryptSync(secret, salt, HASH_BYTES).toString('base64url')}`;
}

let decoy: string | undefined;
/** A stored hash of the usual shape that no secret is known to match: random salt and digest (no scrypt to make it). */
function decoyHash(): string {
  return (decoy ??= `scrypt$${randomBytes(16).toString('base64url')}$${randomBytes(HASH_BYTES).toString('base64url')}`);
}

/** Thrown when more verifications wait than the queue holds: answer 503 with Retry-After. */
export class SecretCheckBusy extends Error {
  override name = 'SecretCheckBusy';
}

export class SecretVerifier {
  private readonly slots: ConcurrencyLimit;

  constructor(
    readonly concurrency = Math.max(1, Math.floor(availableParallelism() / 2)),
    readonly maxQueued = 256,
  ) {
    this.slots = new ConcurrencyLimit(concurrency, maxQueued, () => new SecretCheckBusy('too many client secret checks waiting'));
  }

  /**
   * verify() against the client's stored hash; with none (an unknown client id, or a client that
   * authenticates with a key only) against a decoy hash, and false: the answer then takes as long
   * as a wrong secret's, so timing does not tell which client ids exist.
   */
  async verifyOrDecoy(secret: string, stored: string | undefined): Promise<boolean> {
    if (stored !== undefined) return this.verify(secret, stored);
    await this.verify(secret, decoyHash());
    return false;
  }

  /** True when `secret` matches the stored `scrypt$salt$digest`; false for any malformed hash. */
  async verify(secret: string, stored: string): Promise<boolean> {
    const [scheme, salt, hash, extra] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !hash || extra !== undefined) return false;
    const expected = Buffer.from(hash, 'base64url');
    // An empty (or truncated) digest would compare equal to scrypt's empty output: refuse it.
    if (expected.length < MIN_DIGEST_BYTES) return false;
    const actual = await this.slots.run(
      () => new Promise<Buffer>((resolve, reject) => scrypt(secret, Buffer.from(salt, 'base64url'), expected.length, (err, key) => (err ? reject(err) : resolve(key)))),
    );
    return timingSafeEqual(expected, actual);
  }
}
