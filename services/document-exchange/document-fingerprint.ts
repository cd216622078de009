// What makes two packages carrying one DocumentId the same document: a sender may send a document
// again to recipients that do not have it yet (the bus allows it), but a package that reuses the
// DocumentId for other content would leave the bus — and every recipient's system, which files
// documents by that id — holding two documents under one name (the first subject kept, the
// second's recipients reading another text). The fingerprint covers what identifies the
// document itself (number and notation, promulgation, type, subject, content, signer, the
// attachments' bytes), not what may differ per recipient (the To list, due date, steering type,
// places, trace headers). It is stored sealed like the subject (document-store.ts): a hash of a
// short subject would let whoever reads the database confirm a guess.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../platform/canonical-json.js';

const IDENTITY_FIELDS = ['code', 'promulgationInfo', 'documentType', 'subject', 'content', 'signerInfo'] as const;

/** Attachments by their bytes' SHA-256 only: names and descriptions may be rendered differently. */
export function documentFingerprint(header: Record<string, unknown>, attachments: readonly { sha256?: string }[] = []): string {
  const identity: Record<string, unknown> = {};
  for (const field of IDENTITY_FIELDS) if (header[field] !== undefined) identity[field] = header[field];
  identity.attachments = attachments.map((a) => a.sha256 ?? '').sort();
  return createHash('sha256').update(canonicalJson(identity)).digest('base64url');
}
