// The attachment store: the claim check that keeps document attachments (up to 20 MB a
// package) out of Kafka. Records carry an attachment's SHA-256 and size; the bytes live here,
// addressed by that digest, so every read can prove it got what the sender sent. The interface
// is small on purpose (put, read, stat) so an S3-compatible store can replace the filesystem
// one: content addressing maps directly onto object keys, and writes are idempotent.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

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
 * Filesystem store: <dir>/<first two hex digits>/<sha256>. Writes go to a temporary file in the
 * same directory and are renamed into place, so readers never see a half-written attachment and
 * processes sharing the directory (gateway and runner under `npm start`) agree on its content.
 */
export class FilesystemAttachmentStore implements AttachmentStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new TypeError('an attachment is addressed by a lowercase hex SHA-256');
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  async put(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    const sha256 = sha256Hex(bytes);
    const file = this.pathOf(sha256);
    if (existsSync(file) && statSync(file).size === bytes.length) return { sha256, size: bytes.length };
    mkdirSync(join(this.dir, sha256.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, bytes, { mode: 0o640 });
      renameSync(tmp, file);
    } finally {
      if (existsSync(tmp)) unlinkSync(tmp);
    }
    return { sha256, size: bytes.length };
  }

  async read(sha256: string, expectedSize?: number): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AttachmentUnavailable('missing', sha256, `attachment ${sha256} is missing from the attachment store`);
      throw err;
    }
    if ((expectedSize !== undefined && bytes.length !== expectedSize) || sha256Hex(bytes) !== sha256) {
      throw new AttachmentUnavailable('corrupted', sha256, `attachment ${sha256} is corrupted in the attachment store (SHA-256 or size does not match what the sender sent)`);
    }
    return bytes;
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    try {
      return { size: statSync(this.pathOf(sha256)).size };
    } catch {
      return null;
    }
  }
}

/** The store a service uses: the directory from configuration, or <dataDir>/attachments. */
export function openAttachmentStore(config: { dataDir: string; attachmentStoreDir?: string }): AttachmentStore {
  return new FilesystemAttachmentStore(config.attachmentStoreDir || join(config.dataDir, 'attachments'));
}
