// A bound on what one member's systems may hold in uploads no document names yet. Such an
// upload is kept `LGSP_ATTACHMENT_UNREFERENCED_RETENTION_DAYS` (attachment-retention.ts), and
// within that time nothing but the rate limit bounded them: one agency system uploading and
// never sending could fill the database for a week. Past the quota an upload is refused before
// anything is stored; sending the documents that name the earlier uploads (or their expiry)
// makes room again. Counted per member, as read grants are (document_attachment_access).
//
// Two uploads of one member racing past the check may both be stored: the quota can be passed by
// what that member's systems upload at the same moment (bounded by the gateway's in-flight body
// budget), never more.
import type { Database } from '../platform/database.js';
import { ProblemError } from '../platform/problem.js';

// Scans the uploads no document names (a partial index holds just those), joined to the
// member's grants by their primary key. The upload being checked is left out: the same bytes
// uploaded again add nothing.
const HELD_BY_MEMBER = `SELECT coalesce(sum(b.size), 0)::bigint AS held
  FROM attachment_blobs b JOIN document_attachment_access a ON a.sha256 = b.sha256
  WHERE a.member = $1 AND b.referenced_at IS NULL AND b.sha256 <> $2`;

/** Bytes of uploads no document names that `member` may read, `sha256` left out. */
export async function unreferencedBytesHeld(db: Pick<Database, 'query'>, member: string, sha256: string): Promise<number> {
  const { rows } = await db.query<{ held: string }>(HELD_BY_MEMBER, [member, sha256]);
  return Number(rows[0]?.held ?? 0);
}

/** The refusal of an upload of `size` bytes that would take `held` past `quotaBytes` (0: no quota); null when it fits. */
export function uploadQuotaProblem(opts: { held: number; size: number; quotaBytes: number; retentionDays: number }): ProblemError | null {
  const { held, size, quotaBytes, retentionDays } = opts;
  if (quotaBytes === 0 || held + size <= quotaBytes) return null;
  const expiry = retentionDays > 0 ? `, or wait: an upload no document names is deleted ${retentionDays} days after it was uploaded` : '';
  return new ProblemError(
    413,
    'UPLOAD_QUOTA_EXCEEDED',
    'Upload quota exceeded',
    `Your member's uploads that no document names yet hold ${held} bytes; with this one (${size} bytes) they would pass the quota of ${quotaBytes} bytes (LGSP_ATTACHMENT_UNREFERENCED_QUOTA_BYTES). Nothing was stored. Send the documents (edoc.send) that name your earlier uploads, which frees their bytes from the quota${expiry}`,
    { quotaBytes, heldBytes: held },
  );
}
