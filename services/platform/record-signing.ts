// Signed bus records. Every record the platform produces carries, in Kafka headers, a compact
// JWS over the Merkle root of the batch it was produced in, plus its own inclusion proof. One
// ES256 signature per produced batch instead of one per record keeps crypto off the hot path;
// a batch of one is simply a per-record signature with an empty path. The record value (the
// envelope JSON) is hashed byte for byte, so consumers verify exactly what they parse.
import type { KeyObject } from 'node:crypto';
import { signCompact, UnknownKeyError, verifyCompact, type PublicKeyLookup } from './es256.js';
import { buildTree, leafHash, provenIncluded } from './merkle.js';
import type { SigningKey } from './keystore.js';

export const SIGNATURE_HEADER = 'lgsp-sig';
export const PROOF_HEADER = 'lgsp-proof';
const JWS_TYPE = 'lgsp-batch+jws';
const UNKNOWN_KID_COOLDOWN_MS = 1000;
/** Batches whose proven Merkle nodes a verifier keeps: records of a batch arrive together. */
const PROVEN_BATCHES = 16;

// A type alias rather than an interface, so it is assignable to a Kafka headers record.
export type RecordSignature = {
  [SIGNATURE_HEADER]: string;
  [PROOF_HEADER]: string;
};

interface BatchClaims {
  /** The signing key's kid (from the JWS header; kept with the cached claims). */
  kid?: string;
  root: string;
  n: number;
  iat: number;
  exp: number;
}

export function signBatch(values: (Buffer | string)[], key: SigningKey, ttlSeconds: number): RecordSignature[] {
  const { root, paths } = buildTree(values.map(leafHash));
  const iat = Math.floor(Date.now() / 1000);
  const claims: BatchClaims = { root: root.toString('base64url'), n: values.length, iat, exp: iat + ttlSeconds };
  const jws = signCompact(JSON.stringify(claims), { alg: 'ES256', kid: key.kid, typ: JWS_TYPE }, key.keyObject);
  return paths.map((path, index) => ({
    [SIGNATURE_HEADER]: jws,
    [PROOF_HEADER]: `${index}/${values.length}:${path.map((p) => p.toString('base64url')).join('.')}`,
  }));
}

export type VerifyResult = { ok: true; signedAt: number } | { ok: false; reason: string };

function headerString(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}

/**
 * Good batch signatures, shared by every verifier of the process: a service with several
 * consumers of the same topic (status and inbox feeds, say) checks each produced batch once, not
 * once per consumer. An entry counts for a verifier only when its own key lookup yields the very
 * key the signature was checked with, so verifiers with different key sets never share a verdict.
 */
const verifiedBatches = new Map<string, { claims: BatchClaims; kid: string; key: KeyObject }>();
const SHARED_CACHE_SIZE = 10_000;

function rememberVerified(jws: string, entry: { claims: BatchClaims; kid: string; key: KeyObject }): void {
  verifiedBatches.set(jws, entry);
  if (verifiedBatches.size > SHARED_CACHE_SIZE) verifiedBatches.delete(verifiedBatches.keys().next().value as string);
}

export class RecordVerifier {
  // Verified batch signatures by JWS text: records of one batch share it, so a batch costs one
  // signature check however many records it holds. An unknown kid is not remembered as a
  // failure for good: the key may have been rotated in since (the key lookup re-reads the key
  // set, itself at most once a second), so that answer is kept for UNKNOWN_KID_COOLDOWN_MS only.
  private readonly verified = new Map<string, BatchClaims | string | { reason: string; until: number }>();

  // Per recent batch (by JWS): its decoded root and the tree nodes already proven to lead to it.
  private readonly proven = new Map<string, { root: Buffer; nodes: Map<string, Buffer> }>();

  constructor(
    private readonly lookupKey: PublicKeyLookup,
    private readonly options: {
      cacheSize?: number;
      now?: () => number;
      enforceExpiry?: boolean;
      /**
       * Which services may write a topic, and whose key a kid is: a record signed by another
       * service's record key than the topic's writers is refused (record-writers.ts).
       */
      writers?: { allowed(topic: string): readonly string[]; ownerOf(kid: string): string | undefined };
    } = {},
  ) {}

  private checkSignature(jws: string): BatchClaims | string {
    const shared = verifiedBatches.get(jws);
    if (shared && this.lookupKey(shared.kid) === shared.key) return shared.claims;
    const now = (this.options.now ?? Date.now)();
    let result = this.verified.get(jws);
    if (typeof result === 'object' && 'until' in result) {
      if (result.until > now) return result.reason;
      result = undefined;
    }
    if (result === undefined) {
      const fresh = this.verifyBatchJws(jws);
      result = typeof fresh === 'object' && 'unknownKid' in fresh ? { reason: fresh.reason, until: now + UNKNOWN_KID_COOLDOWN_MS } : fresh;
      this.verified.delete(jws);
      this.verified.set(jws, result);
      if (this.verified.size > (this.options.cacheSize ?? 10_000)) this.verified.delete(this.verified.keys().next().value as string);
    }
    return typeof result === 'object' && 'until' in result ? result.reason : result;
  }

  private verifyBatchJws(jws: string): BatchClaims | string | { unknownKid: true; reason: string } {
    try {
      const { header, payload } = verifyCompact(jws, this.lookupKey);
      if (header.typ !== JWS_TYPE) return 'unexpected JWS type';
      const claims = JSON.parse(payload.toString('utf8')) as BatchClaims;
      if (typeof claims.root !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(claims.root) || !Number.isInteger(claims.n) || typeof claims.exp !== 'number') return 'malformed batch claims';
      const verified = { ...claims, kid: header.kid };
      const key = this.lookupKey(header.kid);
      if (key) rememberVerified(jws, { claims: verified, kid: header.kid, key });
      return verified;
    } catch (err) {
      const reason = `signature verification failed: ${(err as Error).message}`;
      return err instanceof UnknownKeyError ? { unknownKid: true, reason } : reason;
    }
  }

  private provenFor(jws: string, claims: BatchClaims): { root: Buffer; nodes: Map<string, Buffer> } {
    let batch = this.proven.get(jws);
    if (!batch) {
      batch = { root: Buffer.from(claims.root, 'base64url'), nodes: new Map() };
      this.proven.set(jws, batch);
      if (this.proven.size > PROVEN_BATCHES) this.proven.delete(this.proven.keys().next().value as string);
    }
    return batch;
  }

  /** verify() for callers that await; the check itself is synchronous (see check()). */
  async verify(value: Buffer | null, headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined, topic?: string): Promise<VerifyResult> {
    return this.check(value, headers, topic);
  }

  /**
   * Synchronous: a consumer checks every record of a fetched batch without a promise per record.
   * `topic`: where the record was read (or is going back to); required when writers are checked.
   */
  check(value: Buffer | null, headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined, topic?: string): VerifyResult {
    if (!value) return { ok: false, reason: 'record has no value' };
    return this.verifyLeaf(leafHash(value), headers, topic);
  }

  /**
   * check() for a record known only by its Merkle leaf hash (the audit log keeps the leaf of a
   * message record, not its payload): proves that a record with this leaf was in a signed batch.
   */
  verifyLeaf(leaf: Buffer, headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined, topic?: string): VerifyResult {
    const jws = headerString(headers?.[SIGNATURE_HEADER]);
    const proof = headerString(headers?.[PROOF_HEADER]);
    if (!jws || !proof) return { ok: false, reason: 'record is not signed' };
    const claims = this.checkSignature(jws);
    if (typeof claims === 'string') return { ok: false, reason: claims };
    const writers = this.options.writers;
    if (writers) {
      // Without a topic there is nothing to check the signer against: refuse rather than guess.
      const allowed = topic === undefined ? [] : writers.allowed(topic);
      const owner = claims.kid === undefined ? undefined : writers.ownerOf(claims.kid);
      if (!owner || !allowed.includes(owner)) {
        return { ok: false, reason: `record on ${topic ?? 'an unknown topic'} signed by the ${owner ?? 'unknown'} service's key; only ${allowed.join(', ') || 'no service'} may write there` };
      }
    }
    // The audit log must still record authentic events that arrive late (a consumer that was
    // down past the TTL), so it verifies without the expiry; delivery paths enforce it.
    if (this.options.enforceExpiry !== false && claims.exp * 1000 < (this.options.now ?? Date.now)()) return { ok: false, reason: 'record signature expired' };
    const batch = this.provenFor(jws, claims);
    // index/size:sibling.sibling… — each sibling a SHA-256 (43 base64url characters), decoded
    // only if the check climbs that far (provenIncluded).
    const match = /^(\d+)\/(\d+):((?:[A-Za-z0-9_-]{43}(?:\.[A-Za-z0-9_-]{43})*)?)$/.exec(proof);
    if (!match || Number(match[2]) !== claims.n) return { ok: false, reason: 'malformed inclusion proof' };
    const path = match[3] === '' ? [] : match[3].split('.');
    if (!provenIncluded(batch.root, leaf, Number(match[1]), claims.n, path, batch.nodes)) return { ok: false, reason: 'record does not match its signed batch (tampered or forged)' };
    return { ok: true, signedAt: claims.iat };
  }
}
