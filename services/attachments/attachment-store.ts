// The attachment store: the claim check that keeps document attachments (up to 20 MB a
// package) out of Kafka. Records carry an attachment's SHA-256 and size; the bytes live here,
// addressed by that digest, so every read can prove it got what the sender sent. The interface
// is small on purpose (put, read, stat) so an S3-compatible store can replace the PostgreSQL
// one: content addressing maps directly onto object keys, and writes are idempotent.
import { createHash } from 'node:crypto';
import type { Database } from '../platform/database.js';

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
  /** Stores bytes under their SHA-256 (idempotent); returns the digest and size. */
  put(bytes: Uint8Array): Promise<{ sha256: string; size: number }>;
  /**
   * The bytes of an attachment, verified against its digest (and size when given). Throws
   * AttachmentUnavailable('missing' | 'corrupted').
   */
  read(sha256: string, expectedSize?: number): Promise<Buffer>;
  /** Size of a stored attachment, or null when absent (no verification). */
  stat(sha256: string): Promise<{ size: number } | null>;
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

  async put(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = sha256Hex(bytes);
    const plain = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const sealed = this.sealing?.seal(plain);
    await this.db.query('INSERT INTO attachment_blobs (sha256, size, content, sealing) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING', [
      sha256,
      bytes.length,
      sealed?.content ?? plain,
      sealed?.sealing ?? null,
    ]);
    return { sha256, size: bytes.length };
  }

  async read(sha256: string, expectedSize?: number): Promise<Buffer> {
    if (!SHA256_HEX.test(sha256)) throw new TypeError('an attachment is addressed by a lowercase hex SHA-256');
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
}

/** The store every service uses: the shared PostgreSQL database, its bytes encrypted. */
export function openAttachmentStore(db: Pick<Database, 'query'>, sealing: AttachmentSealing): AttachmentStore {
  return new PostgresAttachmentStore(db, sealing);
}
