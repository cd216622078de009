// The document-exchange rules the gateway enforces on edoc.send and edoc.status before anything
// reaches Kafka (a SubmissionHook):
//  - checkPayload: every date, instant and DocumentId date is on the calendar (edoc-dates.ts);
//  - prepare: attachment bytes sent inline leave the submission for the attachment store (claim
//    check; only SHA-256 and size travel on the bus), references to uploaded attachments are
//    checked, and the correlation id defaults to the DocumentId all packets of a document share;
//    the XML-DSig result (signatureVerification) is set by the bus, and a signed package posted
//    as XML keeps its exact bytes (original) for edXML receivers;
//  - admit: the sender is who the package says, the recipients are the package's To list, a new
//    DocumentId is new, a revoke/update/replace targets a document this sender sent to each
//    recipient, a status packet is a legal next step for its (document, recipient) — see
//    status-lifecycle.ts — and each receiving service's signature policy allows the result. admit runs in the submission's transaction: the (document, recipient)
//    rows it reads are locked until Kafka has acknowledged (commit) or refused (rollback), on
//    every gateway, and its changes commit with the submission or not at all.
import type { FastifyRequest } from 'fastify';
import { uuidv7 } from '../platform/uuid7.js';
import type { BusEvent } from '../platform/bus-events.js';
import type { Envelope } from '../platform/envelope.js';
import { ProblemError } from '../platform/problem.js';
import { AGENCY_CODE_MEANING, REQUIRED_MESSAGE } from '../platform/problem-handler.js';
import type { MessageView } from '../platform/gateway-module.js';
import type { Admission, FanOutSubmission, SubmissionContext, SubmissionHook } from '../platform/submission-hooks.js';
import { bareContentId, encodeEdxml, checkedSignature, EdxmlError, type JsonAttachment } from '../edxml/edxml-codec.js';
import { SHA256_HEX, sha256Hex, type AttachmentStore } from '../attachments/attachment-store.js';
import type { SignatureResult, SignatureVerification } from '../edxml/xml-dsig.js';
import type { EdocType, EdxmlShape, Lookalike } from '../edxml/edxml-codec.js';
import { edxmlFieldPath } from '../edxml/edxml-paths.js';
import { base64Fault } from '../edxml/base64-fault.js';
import { lookalikeHint } from '../edxml/lookalike-hint.js';
import { signerOnTimeline } from '../edxml/signer-on-timeline.js';
import { checkEdocDates } from './edoc-dates.js';
import { applyChange, applyStatus, businessKind, type RecipientState } from './status-lifecycle.js';
import { DocumentIdReusedError, type DocumentChanges, type DocumentStore } from './document-store.js';
import { documentFingerprint } from './document-fingerprint.js';
import type { ErrorCode } from '../platform/error-codes.js';
import type { Queryable } from '../platform/database.js';

export const EDOC_TYPES = ['edoc.send', 'edoc.status'] as const;

interface SendPayload {
  header: { from: { organId: string }; to: { organId: string }[]; documentId: string; subject?: string };
  signatureVerification?: SignatureVerification;
  original?: { sha256: string; size: number };
  traceHeaderList?: { bussiness?: { bussinessDocType?: number; bussinessDocReason?: string; documentId?: string; replacementInfoList?: { documentId?: string }[] } };
  attachments?: JsonAttachment[];
  signature?: string;
}

interface StatusPayload {
  responseFor: { documentId: string; organId?: string };
  from: { organId: string };
  statusCode: string;
  description?: string;
  signature?: string;
  signatureVerification?: SignatureVerification;
  original?: { sha256: string; size: number };
}

/** An edXML package as the sender posted it: its bytes and what its signature verified to. */
export interface ReceivedPackage {
  bytes: Buffer;
  shape: EdxmlShape;
  verification: SignatureVerification;
  /** Elements named like edXML's at their place but in another namespace (the codec's note). */
  lookalikes: readonly Lookalike[];
}

const problem = (status: number, code: ErrorCode, title: string, detail: string, field?: string, message?: string) =>
  new ProblemError(status, code, title, detail, field ? { errors: [{ field, message: message ?? detail }] } : {});

/** The DocumentId a package is about: the original for revoke/update/replace, else its own. */
export function subjectDocumentId(payload: SendPayload): string {
  const bussiness = payload.traceHeaderList?.bussiness;
  if (!businessKind(bussiness?.bussinessDocType)) return payload.header.documentId;
  return bussiness?.documentId ?? bussiness?.replacementInfoList?.[0]?.documentId ?? payload.header.documentId;
}

export interface EdocRulesDeps {
  documents: DocumentStore;
  attachments: AttachmentStore;
  attachmentMaxBytes: number;
  /** The gateway's view of a message (for events on the original document's timeline). */
  messageView(id: string): Promise<MessageView | null>;
  /** The package posted as XML in this request, if it was. */
  receivedPackage(request: FastifyRequest): ReceivedPackage | undefined;
  /** The signature results the receiving service refuses (registry documentSignatures; `weak`: a SHA-1 signature). */
  refusedSignatures(to: { member: string; service: string }): readonly (SignatureResult | 'weak')[];
}

export function edocSubmissionHook(deps: EdocRulesDeps): SubmissionHook {
  // Attachment bytes held between prepare (before routing) and admit (after every check).
  const pendingBlobs = new WeakMap<FastifyRequest, Buffer[]>();
  // The signed original of a package posted as XML, held the same way.
  const pendingOriginals = new WeakMap<FastifyRequest, Buffer>();

  /**
   * The bus's own word on the package's signature, replacing anything a sender put there: the
   * result over the bytes posted as XML, or, for the JSON form (whose signed bytes the bus never
   * saw), `invalid` when a signature is claimed.
   */
  function signatureFields(payload: Record<string, unknown>, sub: SubmissionContext): Record<string, unknown> {
    const { signatureVerification: _claimed, original: _claimedOriginal, ...rest } = payload;
    const received = deps.receivedPackage(sub.request);
    if (received) {
      if (received.verification.result === 'unsigned') return { ...rest, signatureVerification: received.verification };
      pendingOriginals.set(sub.request, received.bytes);
      const original = { sha256: sha256Hex(received.bytes), size: received.bytes.length, contentType: 'application/xml; charset=utf-8', shape: received.shape };
      return { ...rest, signatureVerification: received.verification, original };
    }
    const checkedAt = new Date().toISOString();
    const verification: SignatureVerification = rest.signature === undefined
      ? { result: 'unsigned', checkedAt }
      : { result: 'invalid', reason: 'a signature in the JSON form cannot be checked (the bus never saw the signed bytes): post the signed edXML package as XML', checkedAt };
    return { ...rest, signatureVerification: verification };
  }

  /** Refuses, before Kafka, what a receiving service's signature policy does not take. */
  function checkSignaturePolicy(envelopes: Envelope<Record<string, unknown>>[], verification: SignatureVerification | undefined): void {
    if (!verification) return;
    for (const [i, e] of envelopes.entries()) {
      const refused = deps.refusedSignatures(e.to);
      const field = envelopes.length > 1 ? `to[${i}]` : 'signature';
      if (refused.includes(verification.result)) {
        const why = verification.reason ? ` (${verification.reason})` : '';
        throw problem(422, 'SIGNATURE_POLICY', 'Signature refused by the receiving service', `${e.to.member} (service ${e.to.service}) does not accept ${verification.result} documents${why}`, field, `signature is ${verification.result}; this recipient requires a valid signature`);
      }
      const weak = verification.weakAlgorithms ?? [];
      if (weak.length > 0 && refused.includes('weak')) {
        throw problem(422, 'SIGNATURE_POLICY', 'Signature refused by the receiving service', `${e.to.member} (service ${e.to.service}) does not accept signatures made with SHA-1 (${weak.join(', ')}): sign with rsa-sha256 and sha256 digests`, field, 'signature uses SHA-1; this recipient requires SHA-256 or stronger');
      }
    }
  }

  /**
   * The attachments (and signed original) a document names are kept for ever from its commit on
   * (attachment-retention.ts); one swept as an unnamed upload since it was checked refuses it.
   */
  async function keepNamedAttachments(changes: DocumentChanges, tx: Queryable): Promise<void> {
    const gone = await deps.attachments.markReferenced((changes.grants ?? []).map((g) => g.sha256), tx);
    if (gone.length > 0) {
      throw problem(422, 'ATTACHMENT_NOT_FOUND', 'Attachment not found', `no uploaded attachment ${gone[0]}: it was removed as an upload no document named within its retention (POST /v1/attachments again)`, 'payload.attachments');
    }
  }

  /** Stores the signed original before acceptance (idempotent, content-addressed like attachments). */
  async function storeOriginal(sub: SubmissionContext): Promise<void> {
    const original = pendingOriginals.get(sub.request);
    if (original) await deps.attachments.put(original);
  }

  /**
   * Timeline events: the result for a signed package on each new message, for sender, receiver
   * and operators (an unsigned one says so in its payload and delivery headers only).
   */
  function signatureEvents(envelopes: Envelope<Record<string, unknown>>[], verification: SignatureVerification | undefined): BusEvent[] {
    if (!verification || verification.result === 'unsigned') return [];
    return envelopes.map((e) => ({
      id: uuidv7(),
      event: 'status' as const,
      at: new Date().toISOString(),
      actor: 'gateway/document-exchange',
      messageId: e.id,
      type: e.type,
      from: e.from,
      to: e.to,
      correlationId: e.correlationId,
      detail: { signature: verification.result, ...(verification.signer ? { signer: signerOnTimeline(verification.signer) } : {}), ...(verification.reason ? { reason: verification.reason } : {}) },
    }));
  }

  async function prepareSend(body: FanOutSubmission, sub: SubmissionContext): Promise<FanOutSubmission> {
    const payload = body.payload as unknown as SendPayload;
    const list = Array.isArray(payload.attachments) ? payload.attachments : [];
    const blobs: Buffer[] = [];
    const ids = new Set<string>();
    let total = 0;
    const attachments = await Promise.all(
      list.map(async (a, i) => {
        const field = `payload.attachments[${i}]`;
        // prepare runs before the payload schema: an attachment that is not an object, or whose
        // contentId is not a string, is left as it is for the schema to name what is wrong.
        if (!a || typeof a !== 'object' || typeof a.contentId !== 'string') return a;
        // `cid:a`, `<a>` and `a` are one id in edXML: two of them would be a package no edXML
        // receiver can read, so they are refused here, not dead-lettered at every receiver.
        const bare = bareContentId(a.contentId);
        if (!bare) throw problem(400, 'VALIDATION_FAILED', 'Invalid attachment', `contentId "${a.contentId}" names no attachment`, `${field}.contentId`);
        if (ids.has(bare)) throw problem(400, 'DUPLICATE_ATTACHMENT', 'Duplicate attachment', `contentId ${a.contentId} is used twice (cid:x, <x> and x are the same id)`, `${field}.contentId`);
        ids.add(bare);
        // A sha256 that is not lower-case hex (C#'s Convert.ToHexString and Java's HexFormat
        // upper-case it) is left for the schema to name ("64 lower-case hexadecimal digits"): it
        // was compared as written, and answered as another file (ATTACHMENT_DIGEST_MISMATCH) or
        // as one never uploaded (ATTACHMENT_NOT_FOUND), though it named the very bytes sent.
        if (a.sha256 !== undefined && !(typeof a.sha256 === 'string' && SHA256_HEX.test(a.sha256))) return a;
        const { content, ...meta } = a;
        if (typeof content === 'string') {
          const bytes = Buffer.from(content, 'base64');
          if (bytes.toString('base64').replace(/=+$/, '') !== content.replace(/=+$/, '')) {
            const fault = base64Fault(content, { padding: 'optional' }) ?? 'its last character carries bits the bytes do not have (not canonical base64)';
            throw problem(400, 'ATTACHMENT_NOT_BASE64', 'Attachment is not base64', `attachment ${a.contentId}: content is not base64: ${fault}`, `${field}.content`);
          }
          if (bytes.length === 0) throw problem(400, 'VALIDATION_FAILED', 'Invalid attachment', `attachment ${a.contentId}: content is empty (an attachment carries at least one byte)`, `${field}.content`);
          const sha256 = sha256Hex(bytes);
          if (a.sha256 !== undefined && a.sha256 !== sha256) {
            throw problem(422, 'ATTACHMENT_DIGEST_MISMATCH', 'Attachment digest mismatch', `attachment ${a.contentId}: the content's SHA-256 is ${sha256}, not ${a.sha256}`, `${field}.sha256`);
          }
          if (a.size !== undefined && a.size !== bytes.length) {
            throw problem(422, 'ATTACHMENT_SIZE_MISMATCH', 'Attachment size mismatch', `attachment ${a.contentId}: the content is ${bytes.length} bytes, not ${a.size}`, `${field}.size`);
          }
          total += bytes.length;
          blobs.push(bytes);
          return { ...meta, size: bytes.length, sha256 };
        }
        if (typeof a.sha256 === 'string' && typeof a.size === 'number') {
          const stored = await deps.attachments.stat(a.sha256);
          // Whether someone else's attachment exists is not disclosed: unknown and foreign look alike.
          if (!stored || !(await deps.documents.mayReadAttachment(a.sha256, sub.caller.member))) {
            throw problem(422, 'ATTACHMENT_NOT_FOUND', 'Attachment not found', `attachment ${a.contentId}: no uploaded attachment ${a.sha256} (POST /v1/attachments first, or send the content inline)`, `${field}.sha256`);
          }
          if (stored.size !== a.size) {
            throw problem(422, 'ATTACHMENT_SIZE_MISMATCH', 'Attachment size mismatch', `attachment ${a.contentId}: the stored attachment is ${stored.size} bytes, not ${a.size}`, `${field}.size`);
          }
          total += a.size;
        }
        return a;
      }),
    );
    if (total > deps.attachmentMaxBytes) {
      throw new ProblemError(413, 'ATTACHMENTS_TOO_LARGE', 'Attachments too large', `the package's attachments total ${total} bytes; the limit is ${deps.attachmentMaxBytes}`, {
        errors: [{ field: 'payload.attachments', message: `total exceeds ${deps.attachmentMaxBytes} bytes` }],
      });
    }
    pendingBlobs.set(sub.request, blobs);
    const withRefs = signatureFields(list.length > 0 ? { ...body.payload, attachments } : body.payload, sub);
    const documentId = payload.header && typeof payload.header === 'object' ? subjectDocumentId(payload) : undefined;
    return { ...body, payload: withRefs as Record<string, unknown>, correlationId: body.correlationId ?? (typeof documentId === 'string' ? documentId : undefined) };
  }

  function checkRenderable(type: 'edoc.send' | 'edoc.status', payload: Record<string, unknown>): void {
    try {
      if (payload.signature !== undefined) checkedSignature(payload.signature);
      // Every package must be deliverable as edXML too: refuse now what could not be written
      // later. (Attachment bytes are in the store by now; the manifest is what is checked.)
      encodeEdxml(type, { ...payload, signature: undefined });
    } catch (err) {
      if (!(err instanceof EdxmlError)) throw err;
      const field = err.path ? `payload.${err.path}` : 'payload';
      throw problem(400, 'EDXML_NOT_REPRESENTABLE', 'Not representable as edXML', `${field}: ${err.message}`, field, err.message);
    }
  }

  function statusEvent(original: MessageView | null, messageId: string, detail: Record<string, unknown>): BusEvent[] {
    if (!original) return [];
    return [{
      id: uuidv7(),
      event: 'status',
      at: new Date().toISOString(),
      actor: 'gateway/document-exchange',
      messageId,
      type: original.type,
      from: original.from,
      to: original.to,
      correlationId: original.correlationId,
      detail,
    }];
  }

  /**
   * The refusal of a new document one of these recipients has already: named, with the message
   * it went in, so a QLVB that posted again because the first answer was lost (no
   * Idempotency-Key) learns where its document is, not only that it cannot send it.
   */
  async function alreadySent(documentId: string, envelopes: Envelope<Record<string, unknown>>[], tx?: Queryable): Promise<ProblemError | null> {
    for (const [i, e] of envelopes.entries()) {
      const earlier = await deps.documents.recipient(documentId, e.to.member, tx);
      if (!earlier) continue;
      const detail = `document ${documentId} was already sent to ${e.to.member}, as message ${earlier.messageId} (GET /v1/messages/${earlier.messageId}); if this is a retry of that submission, follow that message (a package sent with an Idempotency-Key is answered with its message when retried); to change the document send an update (BussinessDocType 2) or a replacement (3)`;
      return new ProblemError(409, 'DOCUMENT_ALREADY_SENT', 'Document already sent', detail, {
        errors: [{ field: envelopes.length > 1 ? `to[${i}]` : 'payload.header.documentId', message: `already sent to ${e.to.member} (message ${earlier.messageId})` }],
        messageId: earlier.messageId,
      });
    }
    return null;
  }

  async function admitSend(envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext, tx: Queryable): Promise<Admission> {
    const payload = envelopes[0].data as unknown as SendPayload;
    const { header } = payload;
    if (header.from.organId !== sub.caller.member) {
      throw problem(403, 'SENDER_MISMATCH', 'Forbidden', `the package is from ${header.from.organId} but the caller belongs to ${sub.caller.member}`, 'payload.header.from.organId', 'must be the caller\'s member code');
    }
    if (header.documentId.split(',')[0] !== header.from.organId) {
      throw problem(422, 'DOCUMENT_ID_INVALID', 'Invalid DocumentId', `DocumentId ${header.documentId} must start with the sender's code ${header.from.organId}`, 'payload.header.documentId', 'must be <senderOrganId>,<YYYY/MM/DD>,<number/notation>');
    }
    const listed = header.to.map((o) => o.organId).sort();
    const addressed = envelopes.map((e) => e.to.member).sort();
    if (listed.join('|') !== addressed.join('|')) {
      throw problem(422, 'RECIPIENTS_MISMATCH', 'Recipients do not match', `\`to\` (${addressed.join(', ')}) must name exactly the package's To organisations (${listed.join(', ')})`, 'to', 'must list the same members as payload.header.to');
    }
    checkRenderable('edoc.send', envelopes[0].data);
    checkSignaturePolicy(envelopes, payload.signatureVerification);
    const bussiness = payload.traceHeaderList?.bussiness;
    const kind = businessKind(bussiness?.bussinessDocType);
    const original = subjectDocumentId(payload);
    const at = new Date().toISOString();
    const changes: DocumentChanges = { packages: [], grants: [], states: [] };
    const events: BusEvent[] = [];

    const newDocumentId = kind === null || kind === 'replace' ? header.documentId : null;
    if (kind === 'replace' && header.documentId === original) {
      // Where the replaced DocumentId goes, named as the sender wrote the package: the element
      // for one posted as edXML (restate names the header's DocumentId element the same way).
      const received = deps.receivedPackage(sub.request);
      const replacedField = (received && edxmlFieldPath('edoc.send', received.shape, 'payload.traceHeaderList.bussiness.documentId')) ?? 'payload.traceHeaderList.bussiness.documentId';
      throw problem(422, 'REPLACEMENT_NEEDS_NEW_ID', 'Replacement needs its own DocumentId', `a replacing document (BussinessDocType 3) has its own DocumentId; the replaced one goes in ${replacedField}`, 'payload.header.documentId');
    }
    if (newDocumentId) {
      const sentBefore = await alreadySent(newDocumentId, envelopes, tx);
      if (sentBefore) throw sentBefore;
      changes.documents = [{ documentId: newDocumentId, sender: sub.caller.member, subject: header.subject, at, fingerprint: documentFingerprint(header as unknown as Record<string, unknown>, payload.attachments) }];
      changes.newRecipients = envelopes.map((e) => ({ documentId: newDocumentId, member: e.to.member, messageId: e.id }));
    }
    if (kind) {
      if ((await deps.documents.senderOf(original, tx)) !== sub.caller.member) {
        throw problem(422, 'ORIGINAL_DOCUMENT_NOT_FOUND', 'Original document not found', `no document ${original} sent by ${sub.caller.member} is known to the bus`, 'payload.traceHeaderList.bussiness.documentId', 'must be the DocumentId of a document you sent');
      }
      for (const [i, e] of envelopes.entries()) {
        const pair = await deps.documents.recipient(original, e.to.member, tx, { forUpdate: true });
        if (!pair) throw problem(422, 'ORIGINAL_NOT_SENT_TO_RECIPIENT', 'Recipient never got the original', `document ${original} was not sent to ${e.to.member}`, envelopes.length > 1 ? `to[${i}]` : 'to');
        const next = applyChange(pair.state, kind);
        if (!next.ok) throw problem(409, 'ILLEGAL_STATUS_TRANSITION', 'Illegal status transition', `${e.to.member}: ${next.reason}`, 'payload.traceHeaderList.bussiness.bussinessDocType', next.reason);
        changes.states!.push({ documentId: original, member: e.to.member, state: next.state, recorded: next.recorded, at, by: 'bus', messageId: e.id, description: bussiness?.bussinessDocReason });
        if (next.recorded) events.push(...statusEvent(await deps.messageView(pair.messageId), pair.messageId, { statusCode: next.recorded, documentId: original, by: 'bus', packetMessageId: e.id }));
      }
    }
    for (const e of envelopes) {
      changes.packages!.push({ messageId: e.id, type: e.type, documentId: original, packageDocumentId: header.documentId, businessDocType: bussiness?.bussinessDocType ?? 0, from: e.from.member, to: e.to.member, at, subject: header.subject });
    }
    for (const sha256 of [...(payload.attachments ?? []).map((a) => a.sha256), payload.original?.sha256]) {
      if (!sha256) continue;
      for (const member of [sub.caller.member, ...envelopes.map((e) => e.to.member)]) changes.grants!.push({ sha256, member });
    }
    // A new document sent concurrently through another gateway: its recipient rows collide
    // here (the insert waits for the other transaction), and this one is refused.
    try {
      await deps.documents.record(changes, tx);
    } catch (err) {
      if (err instanceof DocumentIdReusedError) {
        throw problem(409, 'DOCUMENT_ID_REUSED', 'DocumentId names another document', `document ${err.documentId} was sent before with other content (number, promulgation, type, subject, content, signer or attachments differ); a changed document is an update (BussinessDocType 2) or a replacement (3) with its own DocumentId, another document needs its own DocumentId`, 'payload.header.documentId');
      }
      if ((err as { code?: string }).code === '23505') {
        // The other request has committed (the insert waited for it): named like a later repost,
        // read outside this transaction, which the failed insert has aborted. A QLVB whose first
        // post timed out and whose retry overtook it learns the message its document went in.
        const sentBefore = newDocumentId ? await alreadySent(newDocumentId, envelopes).catch(() => null) : null;
        throw sentBefore ?? problem(409, 'DOCUMENT_ALREADY_SENT', 'Document already sent', `document ${newDocumentId ?? original} was just sent to the same recipient by another request`, 'payload.header.documentId');
      }
      throw err;
    }
    // Content-addressed and idempotent: bytes of a submission that is then refused are harmless.
    for (const blob of pendingBlobs.get(sub.request) ?? []) await deps.attachments.put(blob);
    await storeOriginal(sub);
    await keepNamedAttachments(changes, tx);
    return { events: [...events, ...signatureEvents(envelopes, payload.signatureVerification)] };
  }

  async function admitStatus(envelopes: Envelope<Record<string, unknown>>[], sub: SubmissionContext, tx: Queryable): Promise<Admission> {
    if (envelopes.length !== 1) throw problem(422, 'ONE_RECIPIENT_ONLY', 'One recipient only', 'a status packet goes to the document\'s sender only', 'to');
    const [envelope] = envelopes;
    const payload = envelope.data as unknown as StatusPayload;
    if (payload.from.organId !== sub.caller.member) {
      throw problem(403, 'SENDER_MISMATCH', 'Forbidden', `the status packet is from ${payload.from.organId} but the caller belongs to ${sub.caller.member}`, 'payload.from.organId', 'must be the caller\'s member code');
    }
    checkRenderable('edoc.status', envelope.data);
    checkSignaturePolicy(envelopes, payload.signatureVerification);
    const documentId = payload.responseFor.documentId;
    const pair = await deps.documents.recipient(documentId, sub.caller.member, tx, { forUpdate: true });
    if (!pair) {
      throw problem(422, 'DOCUMENT_NOT_FOUND', 'Document not found', `no document ${documentId} was sent to ${sub.caller.member} through the bus`, 'payload.responseFor.documentId');
    }
    // The sender's QLVB matches a packet to its document by ResponseFor's OrganId and DocumentId:
    // a packet naming another organisation would be filed under a document it never sent.
    const namedSender = payload.responseFor.organId;
    if (namedSender !== undefined && namedSender !== pair.sender) {
      throw problem(422, 'STATUS_RECIPIENT_MISMATCH', 'Wrong recipient', `ResponseFor/OrganId ${namedSender} is not the organisation that sent ${documentId}: it was sent by ${pair.sender}`, 'payload.responseFor.organId', `must be ${pair.sender}, the document's sender`);
    }
    if (envelope.to.member !== pair.sender) {
      throw problem(422, 'STATUS_RECIPIENT_MISMATCH', 'Wrong recipient', `status packets about ${documentId} go to its sender ${pair.sender}, not ${envelope.to.member}`, Array.isArray((sub.request.body as FanOutSubmission | undefined)?.to) ? 'to[0].member' : 'to.member');
    }
    const next = applyStatus(pair.state as RecipientState, payload.statusCode);
    if (!next.ok) {
      const allowed = next.allowed.length > 0 ? `allowed now: ${next.allowed.join(', ')}` : 'no status is allowed now';
      throw problem(409, 'ILLEGAL_STATUS_TRANSITION', 'Illegal status transition', `StatusCode ${payload.statusCode} refused for ${documentId} at ${sub.caller.member}: ${next.reason} (${allowed})`, 'payload.statusCode', `${next.reason} (${allowed})`);
    }
    const at = new Date().toISOString();
    const changes: DocumentChanges = {
      states: [{ documentId, member: sub.caller.member, state: next.state, recorded: next.recorded, at, by: 'recipient', messageId: envelope.id, description: payload.description }],
      packages: [{ messageId: envelope.id, type: envelope.type, documentId, packageDocumentId: null, businessDocType: null, from: envelope.from.member, to: envelope.to.member, at }],
      grants: payload.original ? [envelope.from.member, envelope.to.member].map((member) => ({ sha256: payload.original!.sha256, member })) : [],
    };
    // The status event is metadata on the bus and in every read model: the code, not the staff's
    // free-text description, which is content (stored sealed in the document's history, read by
    // its parties through GET /v1/documents/{id}).
    const detail = { statusCode: payload.statusCode, documentId, statusMessageId: envelope.id };
    await deps.documents.record(changes, tx);
    await storeOriginal(sub);
    await keepNamedAttachments(changes, tx);
    return { events: [...statusEvent(await deps.messageView(pair.messageId), pair.messageId, detail), ...signatureEvents(envelopes, payload.signatureVerification)] };
  }

  return {
    types: EDOC_TYPES,
    checkPayload: checkEdocDates,
    async prepare(body, sub) {
      if (body.type === 'edoc.send') return prepareSend(body, sub);
      const documentId = (body.payload as unknown as Partial<StatusPayload>).responseFor?.documentId;
      const payload = body.payload && typeof body.payload === 'object' ? signatureFields(body.payload, sub) : body.payload;
      return { ...body, payload, correlationId: body.correlationId ?? (typeof documentId === 'string' ? documentId : undefined) };
    },
    admit: (envelopes, sub, tx) => (envelopes[0].type === 'edoc.send' ? admitSend(envelopes, sub, tx) : admitStatus(envelopes, sub, tx)),
    restate(refusal, type, sub) {
      const received = deps.receivedPackage(sub.request);
      return received ? inXmlTerms(refusal, type as EdocType, received.shape, received.lookalikes) : refusal;
    },
  };
}

/**
 * A refusal of a package posted as XML, naming the elements the sender wrote instead of the
 * JSON form's fields (`edXMLHeader/MessageHeader/Code/CodeNumber`, not
 * `payload.header.code.codeNumber`). Fields without an element (attachments) keep their name.
 */
function inXmlTerms(refusal: ProblemError, type: EdocType, shape: EdxmlShape, lookalikes: readonly Lookalike[]): ProblemError {
  const errors = refusal.extras.errors;
  if (!errors?.length) {
    // No fields (an access right refused, 403), but the detail may still open with the recipient.
    const detail = withToElement(refusal.detail, type, shape);
    return detail === refusal.detail ? refusal : new ProblemError(refusal.status, refusal.code, refusal.title, detail, refusal.extras);
  }
  const restated = errors.map((e) => {
    const field = edxmlFieldPath(type, shape, routeFieldInPackage(type, e.field) ?? e.field);
    if (field === null) return e;
    // The codec leaves out empty elements, so "required" means missing or empty.
    const message = e.message === REQUIRED_MESSAGE ? `${REQUIRED_MESSAGE} (missing or empty)${lookalikeHint(field, lookalikes)}` : e.message;
    return { field, message };
  });
  // The detail names the same fields: longest first, so payload.header.to.0.organId is not
  // taken for payload.header.to followed by text.
  let detail = refusal.detail;
  const order = errors.map((e, i) => ({ from: e, to: restated[i] })).sort((a, b) => b.from.field.length - a.from.field.length);
  for (const { from, to } of order) {
    if (from === to) continue;
    detail = detail.split(`${from.field} ${from.message}`).join(`${to.field} ${to.message}`).split(from.field).join(to.field);
  }
  return new ProblemError(refusal.status, refusal.code, refusal.title, withToElement(detail, type, shape), { ...refusal.extras, errors: restated });
}

/**
 * A refusal about one recipient opens with it (fan-out.ts: "to[1] (H49.242.10): …"): the
 * package's To element in XML terms.
 */
function withToElement(detail: string, type: EdocType, shape: EdxmlShape): string {
  const recipient = /^to\[(\d+)\] \(/.exec(detail);
  const element = recipient && type === 'edoc.send' ? edxmlFieldPath(type, shape, `payload.header.to.${recipient[1]}`) : null;
  return element ? `${element}${detail.slice(recipient![0].length - 2)}` : detail;
}

/**
 * The JSON-form field a recipient was read from, for a document posted as XML: its `to[i].member`
 * is the package's i-th To/OrganId (recipientsForXml), and `to[i]` (a refusal about the
 * recipient, not its code: signature policy, original not sent to it, already sent to it) that
 * To element — `to[1]` named nothing the vendor wrote.
 */
function routeFieldInPackage(type: EdocType, field: string): string | null {
  if (type !== 'edoc.send') return null;
  const member = /^to(?:\[(\d+)\])?\.member$/.exec(field);
  if (member) return `payload.header.to.${member[1] ?? 0}.organId`;
  const recipient = /^to(?:\[(\d+)\])?$/.exec(field);
  return recipient ? `payload.header.to.${recipient[1] ?? 0}` : null;
}

/** Recipients of one submission: the submission schema's `to` list, maxItems. */
const MAX_RECIPIENTS = 100;

/** An electronic agency code as the submission schema takes one (`to[].member`). */
const AGENCY_CODE = /^[A-Z0-9]+(\.[A-Z0-9]+)*$/;

/** `to` of an XML submission: the package's To organisations, or the sender of the document a status is about. */
export async function recipientsForXml(type: 'edoc.send' | 'edoc.status', payload: Record<string, unknown>, documents: DocumentStore, shape: EdxmlShape, callerMember: string, lookalikes: readonly Lookalike[] = []): Promise<{ member: string }[]> {
  if (type === 'edoc.send') {
    const to = (payload as unknown as SendPayload).header?.to;
    // Named here with the element the vendor wrote, not left to the submission schema, whose
    // `to` (one recipient or a list) would answer with its oneOf alternatives.
    if (!Array.isArray(to) || to.length === 0) {
      const field = edxmlFieldPath(type, shape, 'payload.header.to')!;
      const hint = lookalikeHint(field, lookalikes);
      throw new ProblemError(400, 'VALIDATION_FAILED', 'Validation failed', `A document needs at least one edXMLHeader/MessageHeader/To/OrganId${hint}`, {
        errors: [{ field, message: `at least one To/OrganId is required${hint}` }],
      });
    }
    const empty = to.map((o, i) => (typeof o?.organId === 'string' && o.organId.trim() !== '' ? -1 : i)).filter((i) => i >= 0);
    if (empty.length > 0) {
      throw new ProblemError(400, 'VALIDATION_FAILED', 'Validation failed', `To/OrganId is missing or empty in To element${empty.length > 1 ? 's' : ''} ${empty.map((i) => i + 1).join(', ')}`, {
        errors: empty.map((i) => {
          const field = edxmlFieldPath(type, shape, `payload.header.to.${i}.organId`)!;
          return { field, message: `To/OrganId is required${lookalikeHint(field, lookalikes)}` };
        }),
      });
    }
    // The submission's limit on recipients (schemas/submission.schema.json), said in the
    // package's terms, with what to do: the same document may go to the others in a second one.
    if (to.length > MAX_RECIPIENTS) {
      const field = edxmlFieldPath(type, shape, 'payload.header.to')!;
      const message = `at most ${MAX_RECIPIENTS} To organisations per package (this one names ${to.length}); send the same package with the others in another post: a document may be sent later to recipients that do not have it yet`;
      throw new ProblemError(400, 'VALIDATION_FAILED', 'Validation failed', `${field}: ${message}`, { errors: [{ field, message }] });
    }
    // Checked here too, before the submission schema would refuse the code as `to[i].member`, a
    // field of the JSON form the vendor never wrote: the refusal names the To element instead.
    const malformed = to.map((o, i) => (AGENCY_CODE.test(o.organId) && o.organId.length <= 35 ? -1 : i)).filter((i) => i >= 0);
    if (malformed.length > 0) {
      const errors = malformed.map((i) => ({ field: edxmlFieldPath(type, shape, `payload.header.to.${i}.organId`)!, message: AGENCY_CODE_MEANING }));
      throw new ProblemError(400, 'VALIDATION_FAILED', 'Validation failed', errors.map((e, n) => `${e.field} "${to[malformed[n]].organId.slice(0, 40)}" ${e.message}`).join('; '), { errors });
    }
    return to.map((o) => ({ member: o.organId }));
  }
  // A status goes to the sender of the document it is about. One about a document the bus never
  // carried is refused as what it is, in the words admitStatus uses for a document not sent to
  // the caller (no telling the two apart), not as a routing failure. Without a DocumentId it is
  // routed to ResponseFor/OrganId, for the schema to name what is missing.
  const responseFor = (payload as unknown as Partial<StatusPayload>).responseFor;
  const documentId = responseFor?.documentId;
  const sender = typeof documentId === 'string' ? await documents.senderOf(documentId) : null;
  const member = sender ?? (typeof documentId === 'string' ? undefined : responseFor?.organId);
  if (!member) {
    const detail = typeof documentId === 'string' ? `no document ${documentId} was sent to ${callerMember} through the bus` : 'the status packet names no document known to the bus (ResponseFor/DocumentId)';
    throw new ProblemError(422, 'DOCUMENT_NOT_FOUND', 'Document not found', detail, {
      errors: [{ field: edxmlFieldPath(type, shape, 'payload.responseFor.documentId')!, message: detail }],
    });
  }
  return [{ member }];
}

