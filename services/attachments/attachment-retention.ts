// Uploads no document ever names are deleted once past their retention. `POST /v1/attachments`
// stores bytes for an edoc.send to reference; an upload that no document names (a send that was
// refused and never retried, a client that uploads and stops) stayed for ever, bounded by nothing
// but the rate limit, so one agency system could fill the database. An attachment is
// `referenced_at` from the moment a document naming it commits (AttachmentStore.markReferenced,
// in the document's transaction) and is then kept like the document; one still unreferenced
// `LGSP_ATTACHMENT_UNREFERENCED_RETENTION_DAYS` after its (last) upload goes, with who could
// read it. A document that names it afterwards is refused 422 ATTACHMENT_NOT_FOUND: upload again.
//
// Every gateway sweeps (periodic-task.ts) in bounded statements (batched-delete.ts). Rows a
// document is committing are locked by it and skipped (SKIP LOCKED): the sweep never deletes an
// attachment under a document about to name it.
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';
import { DELETE_BATCH_ROWS, deleteInBatches } from '../platform/batched-delete.js';
import { startRetentionSweep, type PeriodicTask } from '../platform/periodic-task.js';

export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

const DELETE_UNREFERENCED = `WITH gone AS (
    DELETE FROM attachment_blobs WHERE sha256 IN (
      SELECT sha256 FROM attachment_blobs WHERE referenced_at IS NULL AND stored_at < $1
      ORDER BY stored_at LIMIT $2 FOR UPDATE SKIP LOCKED)
    AND referenced_at IS NULL
    RETURNING sha256),
  access AS (DELETE FROM document_attachment_access a USING gone WHERE a.sha256 = gone.sha256)
  SELECT sha256 FROM gone`;

/** Deletes unreferenced attachments stored before `cutoff` (and their read grants); the number deleted. */
export function pruneUnreferencedAttachments(db: Database, cutoff: Date, batchRows = DELETE_BATCH_ROWS, stopped: () => boolean = () => false): Promise<number> {
  return deleteInBatches(db, DELETE_UNREFERENCED, [cutoff], batchRows, stopped);
}

/** Sweeps every `intervalMs`; `retentionDays` 0 keeps every upload. */
export function startAttachmentRetention(opts: { db: Database; retentionDays: number; log: Logger; intervalMs?: number }): PeriodicTask {
  return startRetentionSweep({
    retentionDays: opts.retentionDays,
    intervalMs: opts.intervalMs ?? SWEEP_INTERVAL_MS,
    log: opts.log,
    prune: (cutoff, stopped) => pruneUnreferencedAttachments(opts.db, cutoff, DELETE_BATCH_ROWS, stopped),
    deletedLine: 'attachments: uploads no document named deleted past their retention',
    failedLine: 'attachment retention sweep failed',
  });
}
