// The attachment store: the claim check that keeps document attachments (up to 20 MB a
// package) out of Kafka. Records carry an attachment's SHA-256 and size; the bytes live here,
// addressed by that digest, so every read can prove it got what the sender sent. The interface
// is small on purpose (put, read, stat) so an S3-compatible store can replace the PostgreSQL
// one: content addressing maps directly onto object keys, and writes are idempotent.
import { createHash } from 'node:crypto';
import type { Database } from '../platform/database.js';
// A connector's ctx.readAttachment() reaches read(): its refusal is worded, so kept as the reason on the bus.
import { UsageError } from '../platform/unplanned-error.js';

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** RFC 9530 form of a SHA-256 digest, for Repr-Digest headers. */
export function reprDigest(sha256hex: string): string {
  return `sha-256=:${Buffer.from(sha256hex, 'hex').toString('base64')}:`;
}

export type AttachmentFault = 'missing' | 'corrupted';

/** An attachment that cannot be handed over: never delivered silently, always reported. */
export class AttachmentUnavailable extends Error {
  constructor(
    readonly fault: AttachmentFault,
    readonly sha256: string,
    message: string,
  ) {
    super(message);
    this.name = 'AttachmentUnavailable';
  }
}

export interface AttachmentStore {
  /**
   * Stores bytes under their SHA-256 (idempotent); returns the digest and size. `sha256`: the
   * digest the caller already computed of these very bytes (a 20 MB upload is hashed once).
   */
  put(bytes: Uint8Array, sha256?: string): Promise<{ sha256: string; size: number }>;
  /**
   * The bytes of an attachment, verified against its digest (and size when given). Throws
   * AttachmentUnavailable('missing' | 'corrupted').
   */
  read(sha256: string, expectedSize?: number): Promise<Buffer>;
  /** Size of a stored attachment, or null when absent (no verification). */
  stat(sha256: string): Promise<{ size: number } | null>;
  /**
   * Marks attachments a document names as referenced (kept for ever, like the document) within
   * the document's transaction, and keeps them from the unreferenced-upload sweep until it
   * commits. Returns the digests that are no longer stored (swept meanwhile): the document
   * must then be refused.
   */
  markReferenced(sha256s: readonly string[], tx: Pick<Database, 'query'>): Promise<string[]>;
}

/**
 * Encryption at rest of the stored bytes (platform/payload-keyring.ts attachmentSealing()):
 * `sealing` is the JWE (general JSON serialization, without its ciphertext) that opens
 * `content`, sealed for every service that reads attachments (runner and gateway).
 */
export interface AttachmentSealing {
  seal(bytes: Buffer): { sealing: string; content: Buffer };
  /** Throws when the bytes cannot be opened (tampered, or sealed for a key this service lacks). */
  open(sealing: string, content: Buffer): Buffer;
}

/**
 * PostgreSQL store: one bytea row per attachment, shared by every gateway and runner, so an
 * attachment uploaded through one gateway downloads through any other and is in the database's
 * backups. Inserting the same digest twice is a no-op. With `sealing` the row holds ciphertext
 * (its SHA-256 and size stay in clear: they address and check it); rows written before
 * encryption (no sealing) are read as they are.
 */
export class PostgresAttachmentStore implements AttachmentStore {
  constructor(
    private readonly db: Pick<Database, 'query'>,
    private readonly sealing?: AttachmentSealing,
  ) {}

  async put(bytes: Uint8Array, knownSha256?: string): Promise<{ sha256: string; size: number }> {
    const sha256 = knownSha256 ?? sha256Hex(bytes);
    const plain = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sealed = this.sealing?.seal(plain);
    // The same bytes uploaded again while no document names them yet: their retention starts
    // again (attachment-retention.ts), as for a new upload.
    await this.db.query(`INSERT INTO attachment_blobs (sha256, size, content, sealing) VALUES ($1, $2, $3, $4)
      ON CONFLICT (sha256) DO UPDATE SET stored_at = now() WHERE attachment_blobs.referenced_at IS NULL`, [
      sha256,
      bytes.length,
      sealed?.content ?? plain,
      sealed?.sealing ?? null,
    ]);
    return { sha256, size: bytes.length };
  }

  async read(sha256: string, expectedSize?: number): Promise<Buffer> {
    if (!SHA256_HEX.test(sha256)) throw new UsageError('an attachment is addressed by a lowercase hex SHA-256');
    const { rows } = await this.db.query<{ content: Buffer; sealing: string | null }>('SELECT content, sealing FROM attachment_blobs WHERE sha256 = $1', [sha256]);
    const row = rows[0];
    if (!row) throw new AttachmentUnavailable('missing', sha256, `attachment ${sha256} is missing from the attachment store`);
    let bytes = row.content;
    if (row.sealing !== null) {
      if (!this.sealing) throw new AttachmentUnavailable('corrupted', sha256, `attachment ${sha256} is encrypted and this service has no key to open it`);
      try {
        bytes = this.sealing.open(row.sealing, row.content);
      } catch (err) {
        throw new AttachmentUnavailable('corrupted', sha256, `attachment ${sha256} is corrupted in the attachment store or sealed for a key this service lacks (${(err as Error).message})`);
      }
    }
    if ((expectedSize !== undefined && bytes.length !== expectedSize) || sha256Hex(bytes) !== sha256) {
      throw new AttachmentUnavailable('corrupted', sha256, `attachment ${sha256} is corrupted in the attachment store (SHA-256 or size does not match what the sender sent)`);
    }
    return bytes;
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    if (!SHA256_HEX.test(sha256)) return null;
    const { rows } = await this.db.query<{ size: number }>('SELECT size FROM attachment_blobs WHERE sha256 = $1', [sha256]);
    return rows[0] ? { size: rows[0].size } : null;
  }

  async markReferenced(sha256s: readonly string[], tx: Pick<Database, 'query'>): Promise<string[]> {
    const wanted = [...new Set(sha256s)].sort();
    if (wanted.length === 0) return [];
    // A share lock on each row until the document commits: the sweep (FOR UPDATE SKIP LOCKED)
    // passes them by, and a sweep that deleted one first is seen here as a row gone. Taken in
    // digest order, so two documents naming the same attachments cannot deadlock.
    const { rows } = await tx.query<{ sha256: string }>('SELECT sha256 FROM attachment_blobs WHERE sha256 = ANY($1) ORDER BY sha256 FOR KEY SHARE', [wanted]);
    await tx.query('UPDATE attachment_blobs SET referenced_at = now() WHERE sha256 = ANY($1) AND referenced_at IS NULL', [wanted]);
    const present = new Set(rows.map((r) => r.sha256));
    return wanted.filter((sha256) => !present.has(sha256));
  }
}

/** The store every service uses: the shared PostgreSQL database, its bytes encrypted. */
export function openAttachmentStore(db: Pick<Database, 'query'>, sealing: AttachmentSealing): AttachmentStore {
  return new PostgresAttachmentStore(db, sealing);
}
