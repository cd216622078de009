// What the gateway knows about documents exchanged through it: for every (document, recipient)
// the message that carried it, its lifecycle state and status history; every package about a
// document (the original, revokes/updates/replaces, status packets); and which members may
// fetch which attachment. PostgreSQL, shared by every gateway. Submissions write it in the
// transaction that commits only once Kafka has acknowledged them, so what a caller reads back —
// through any gateway — is what the bus accepted.
import { INITIAL_STATE, type RecipientState } from './status-lifecycle.js';
import type { Database, Queryable } from '../platform/database.js';

export interface RecipientRecord {
  documentId: string;
  member: string;
  sender: string;
  messageId: string;
  state: RecipientState;
}

export interface HistoryEntry {
  code: string;
  at: string;
  by: 'recipient' | 'bus';
  messageId: string;
  description?: string;
}

export interface PackageRecord {
  messageId: string;
  type: string;
  documentId: string;
  packageDocumentId: string | null;
  businessDocType: number | null;
  from: string;
  to: string;
  at: string;
}

/** Who reads a document (GET /v1/documents): its member, and whether it may see a document it sent or received. */
export interface DocumentReader {
  member: string;
  mayRead(party: { sender: boolean; recipient: boolean }): boolean;
}

export interface DocumentView {
  documentId: string;
  from: string;
  /** The subject the document was first sent with. */
  subject: string | null;
  /** The subject of the latest version sent to anyone (an update may change it), else `subject`. */
  latestSubject: string | null;
  sentAt: string;
  /** `subject`: that of the latest version sent to this recipient (the original, or an update). */
  recipients: (Omit<RecipientRecord, 'documentId' | 'sender'> & { subject: string | null; history: HistoryEntry[] })[];
  packages: PackageRecord[];
}

/** A revoke or update found under its own DocumentId: the packages that carried it. */
export interface ChangeView {
  documentId: string;
  /** The document it revokes or updates. */
  original: string;
  businessDocType: number;
  from: string;
  subject: string | null;
  sentAt: string;
  packages: PackageRecord[];
}

/** BussinessDocType of the packages that are a version of their document (the original, an update). */
const VERSION_TYPES = [0, 2];
/** BussinessDocType of the packages found under their own DocumentId when it is not their document's: revoke, update. */
const CHANGE_TYPES = [1, 2];

/** Encryption at rest of the content this store keeps (subjects, status descriptions). */
export interface StoredTextSealing {
  seal(text: string): string;
  open(stored: string): string;
}

const CLEAR: StoredTextSealing = { seal: (text) => text, open: (stored) => stored };

export class DocumentStore {
  /**
   * `text`: a document's subject and a status packet's description are content, not metadata:
   * they are stored sealed for the gateway and opened for the parties that read the document.
   */
  constructor(
    private readonly db: Database,
    private readonly text: StoredTextSealing = CLEAR,
  ) {}

  /**
   * A (document, recipient) pair. With a transaction and `forUpdate`, the row stays locked until
   * that transaction ends: two packets about one pair — through any gateways — are checked
   * against the lifecycle one after the other, never against the same state.
   */
  async recipient(documentId: string, member: string, tx?: Queryable, { forUpdate = false } = {}): Promise<RecipientRecord | null> {
    const { rows } = await (tx ?? this.db).query<RecipientRecord>(
      `SELECT r.document_id AS "documentId", r.member, d.sender, r.message_id AS "messageId", r.state
         FROM document_recipients r JOIN document_documents d USING (document_id)
        WHERE r.document_id = $1 AND r.member = $2${forUpdate ? ' FOR UPDATE OF r' : ''}`,
      [documentId, member],
    );
    return rows[0] ?? null;
  }

  async senderOf(documentId: string, q: Queryable = this.db): Promise<string | null> {
    const { rows } = await q.query<{ sender: string }>('SELECT sender FROM document_documents WHERE document_id = $1', [documentId]);
    return rows[0]?.sender ?? null;
  }

  /** Everything one submission changes, written in the submission's transaction. */
  async record(changes: DocumentChanges, tx: Queryable): Promise<void> {
    for (const d of changes.documents ?? []) {
      const inserted = await tx.query(
        'INSERT INTO document_documents (document_id, sender, subject, sent_at, fingerprint) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [d.documentId, d.sender, d.subject == null ? null : this.text.seal(d.subject), d.at, d.fingerprint == null ? null : this.text.seal(d.fingerprint)],
      );
      // Known already (sent before, or by a request committed while this one waited on the key):
      // the same document to new recipients, or another one under a name already taken.
      if (inserted.rowCount === 0 && d.fingerprint != null) {
        const { rows } = await tx.query<{ fingerprint: string | null }>('SELECT fingerprint FROM document_documents WHERE document_id = $1', [d.documentId]);
        const stored = this.openOrNull(rows[0]?.fingerprint ?? null);
        if (stored !== null && stored !== d.fingerprint) throw new DocumentIdReusedError(d.documentId);
      }
    }
    for (const r of changes.newRecipients ?? []) {
      await tx.query('INSERT INTO document_recipients (document_id, member, message_id, state) VALUES ($1, $2, $3, $4)', [r.documentId, r.member, r.messageId, JSON.stringify(INITIAL_STATE)]);
    }
    for (const st of changes.states ?? []) {
      await tx.query('UPDATE document_recipients SET state = $1 WHERE document_id = $2 AND member = $3', [JSON.stringify(st.state), st.documentId, st.member]);
      if (st.recorded) {
        await tx.query('INSERT INTO document_history (document_id, member, code, at, by, message_id, description) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          st.documentId, st.member, st.recorded, st.at, st.by, st.messageId, st.description == null ? null : this.text.seal(st.description),
        ]);
      }
    }
    for (const p of changes.packages ?? []) {
      await tx.query(
        `INSERT INTO document_packages (message_id, type, document_id, package_document_id, business_doc_type, from_member, to_member, at, subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [p.messageId, p.type, p.documentId, p.packageDocumentId, p.businessDocType, p.from, p.to, p.at, p.subject == null ? null : this.text.seal(p.subject)],
      );
    }
    for (const p of changes.packages ?? []) {
      // A revoke or update under a DocumentId of its own: found under it (change()).
      if (p.type !== 'edoc.send' || !CHANGE_TYPES.includes(p.businessDocType ?? -1) || p.packageDocumentId === null || p.packageDocumentId === p.documentId) continue;
      await tx.query(
        'INSERT INTO document_changes (message_id, change_document_id, document_id, business_doc_type, sender, member) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [p.messageId, p.packageDocumentId, p.documentId, p.businessDocType, p.from, p.to],
      );
    }
    for (const g of changes.grants ?? []) await this.grantAttachment(g.sha256, g.member, tx);
  }

  async mayReadAttachment(sha256: string, member: string): Promise<boolean> {
    const { rowCount } = await this.db.query('SELECT 1 FROM document_attachment_access WHERE sha256 = $1 AND member = $2', [sha256, member]);
    return rowCount === 1;
  }

  async grantAttachment(sha256: string, member: string, q: Queryable = this.db): Promise<void> {
    await q.query('INSERT INTO document_attachment_access (sha256, member) VALUES ($1, $2) ON CONFLICT DO NOTHING', [sha256, member]);
  }

  /** Stored text opened; null when absent or sealed for a key the gateway no longer has (the rest of the view still serves). */
  private openOrNull(stored: string | null): string | null {
    if (stored === null) return null;
    try {
      return this.text.open(stored);
    } catch {
      return null;
    }
  }

  /**
   * A document with its recipients, status history and packages; null when there is none, or
   * when `reader` may not see it. That is decided on the document's row (one statement, as for a
   * document that does not exist), before anything else is read or decrypted: DocumentIds are
   * guessable, and the time a refusal took told a stranger which ones had gone through the bus.
   */
  async document(documentId: string, reader?: DocumentReader): Promise<DocumentView | null> {
    const { rows: docs } = await this.db.query<{ sender: string; subject: string | null; sentAt: string; recipient: boolean }>(
      `SELECT sender, subject, sent_at AS "sentAt",
              EXISTS (SELECT 1 FROM document_recipients r WHERE r.document_id = d.document_id AND r.member = $2) AS recipient
         FROM document_documents d WHERE document_id = $1`,
      [documentId, reader?.member ?? null],
    );
    const doc = docs[0];
    if (!doc) return null;
    if (reader && !reader.mayRead({ sender: doc.sender === reader.member, recipient: doc.recipient })) return null;
    const [recipients, history, packages] = await Promise.all([
      this.db.query<{ member: string; messageId: string; state: RecipientState }>(
        'SELECT member, message_id AS "messageId", state FROM document_recipients WHERE document_id = $1 ORDER BY seq',
        [documentId],
      ),
      this.db.query<HistoryEntry & { member: string; description: string | null }>(
        'SELECT member, code, at, by, message_id AS "messageId", description FROM document_history WHERE document_id = $1 ORDER BY seq',
        [documentId],
      ),
      this.db.query<PackageRecord & { subject: string | null }>(
        `SELECT ${PACKAGE_COLUMNS} FROM document_packages WHERE document_id = $1 ORDER BY at, seq`,
        [documentId],
      ),
    ]);
    const subject = this.openOrNull(doc.subject);
    // The subject of the latest version each recipient got (packages come oldest first); one
    // without a stored subject (written before packages kept theirs) leaves the document's.
    const versions = packages.rows.filter((p) => p.type === 'edoc.send' && VERSION_TYPES.includes(p.businessDocType ?? -1) && p.subject !== null);
    const latest = (member?: string) => {
      const version = versions.filter((p) => member === undefined || p.to === member).at(-1);
      return (version && this.openOrNull(version.subject)) ?? subject;
    };
    return {
      documentId,
      from: doc.sender,
      subject,
      latestSubject: latest(),
      sentAt: doc.sentAt,
      recipients: recipients.rows.map((r) => ({
        member: r.member,
        messageId: r.messageId,
        state: r.state,
        subject: latest(r.member),
        history: history.rows.filter((h) => h.member === r.member).map(({ member: _member, description: stored, ...h }) => {
          const description = this.openOrNull(stored);
          return { ...h, ...(description ? { description } : {}) };
        }),
      })),
      packages: packages.rows.map(withoutSubject),
    };
  }

  /**
   * A revoke or update that has a DocumentId of its own, found under it (a package about another
   * document, not a document): null when there is none, or when `reader` may not see it — its
   * sender, and the recipients it went to (each sees its own package only), or an overseer.
   */
  async change(changeDocumentId: string, reader: DocumentReader): Promise<ChangeView | null> {
    // Decided on the change's own rows (one statement, as document() decides on the document's),
    // before its packages are read or its subject decrypted.
    const { rows: changes } = await this.db.query<{ messageId: string; documentId: string; sender: string; member: string }>(
      'SELECT message_id AS "messageId", document_id AS "documentId", sender, member FROM document_changes WHERE change_document_id = $1',
      [changeDocumentId],
    );
    if (changes.length === 0) return null;
    const sender = changes[0].sender === reader.member;
    const mine = changes.filter((c) => c.member === reader.member);
    if (!reader.mayRead({ sender, recipient: mine.length > 0 })) return null;
    const shown = sender || mine.length === 0 ? changes : mine;
    const { rows } = await this.db.query<PackageRecord & { subject: string | null }>(
      `SELECT ${PACKAGE_COLUMNS} FROM document_packages WHERE message_id = ANY($1::text[]) ORDER BY at, seq`,
      [shown.map((c) => c.messageId)],
    );
    if (rows.length === 0) return null;
    return {
      documentId: changeDocumentId,
      original: rows[0].documentId,
      businessDocType: rows[0].businessDocType!,
      from: rows[0].from,
      subject: this.openOrNull(rows.at(-1)!.subject),
      sentAt: rows[0].at,
      packages: rows.map(withoutSubject),
    };
  }
}

const PACKAGE_COLUMNS = `message_id AS "messageId", type, document_id AS "documentId", package_document_id AS "packageDocumentId",
                business_doc_type AS "businessDocType", from_member AS "from", to_member AS "to", at, subject`;

/** A package as views list it: its subject is content, shown (to parties) as the version's subject only. */
function withoutSubject({ subject: _subject, ...p }: PackageRecord & { subject?: string | null }): PackageRecord {
  return p;
}

/** A DocumentId already names a different document (its fingerprint differs). */
export class DocumentIdReusedError extends Error {
  override name = 'DocumentIdReusedError';
  constructor(readonly documentId: string) {
    super(`DocumentId ${documentId} already names a different document`);
  }
}

export interface DocumentChanges {
  /** `fingerprint`: what identifies the document's content (document-fingerprint.ts). */
  documents?: { documentId: string; sender: string; subject?: string; at: string; fingerprint?: string }[];
  newRecipients?: { documentId: string; member: string; messageId: string }[];
  states?: { documentId: string; member: string; state: RecipientState; recorded: string | null; at: string; by: 'recipient' | 'bus'; messageId: string; description?: string }[];
  /** `subject`: what the package carried (edoc.send), stored sealed. */
  packages?: (PackageRecord & { subject?: string })[];
  grants?: { sha256: string; member: string }[];
}
