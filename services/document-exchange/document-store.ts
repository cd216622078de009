// What the gateway knows about documents exchanged through it: for every (document, recipient)
// the message that carried it, its lifecycle state and status history; every package about a
// document (the original, revokes/updates/replaces, status packets); and which members may
// fetch which attachment. SQLite, next to the gateway's message store. It is written when
// Kafka has acknowledged a submission, so what a caller reads back is what the bus accepted.
import Database from 'better-sqlite3';
import { INITIAL_STATE, type RecipientState } from './status-lifecycle.js';
import { openSqlite } from '../platform/sqlite-file.js';

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

export interface DocumentView {
  documentId: string;
  from: string;
  subject: string | null;
  sentAt: string;
  recipients: (Omit<RecipientRecord, 'documentId' | 'sender'> & { history: HistoryEntry[] })[];
  packages: PackageRecord[];
}

export class DocumentStore {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS edoc_documents (
        document_id TEXT PRIMARY KEY, sender TEXT NOT NULL, subject TEXT, sent_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS edoc_recipients (
        document_id TEXT NOT NULL, member TEXT NOT NULL, message_id TEXT NOT NULL, state TEXT NOT NULL,
        PRIMARY KEY (document_id, member));
      CREATE TABLE IF NOT EXISTS edoc_history (
        document_id TEXT NOT NULL, member TEXT NOT NULL, code TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL,
        message_id TEXT NOT NULL, description TEXT);
      CREATE INDEX IF NOT EXISTS edoc_history_by_pair ON edoc_history (document_id, member);
      CREATE TABLE IF NOT EXISTS edoc_packages (
        message_id TEXT PRIMARY KEY, type TEXT NOT NULL, document_id TEXT NOT NULL, package_document_id TEXT,
        business_doc_type INTEGER, from_member TEXT NOT NULL, to_member TEXT NOT NULL, at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS edoc_packages_by_document ON edoc_packages (document_id, at);
      CREATE TABLE IF NOT EXISTS attachment_access (sha256 TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (sha256, member));
    `);
    this.statements = {
      document: this.db.prepare('SELECT document_id AS documentId, sender, subject, sent_at AS sentAt FROM edoc_documents WHERE document_id = ?'),
      insertDocument: this.db.prepare('INSERT OR IGNORE INTO edoc_documents VALUES (?, ?, ?, ?)'),
      recipient: this.db.prepare(`SELECT r.document_id AS documentId, r.member, d.sender, r.message_id AS messageId, r.state
        FROM edoc_recipients r JOIN edoc_documents d USING (document_id) WHERE r.document_id = ? AND r.member = ?`),
      recipients: this.db.prepare('SELECT member, message_id AS messageId, state FROM edoc_recipients WHERE document_id = ? ORDER BY rowid'),
      insertRecipient: this.db.prepare('INSERT INTO edoc_recipients VALUES (?, ?, ?, ?)'),
      updateState: this.db.prepare('UPDATE edoc_recipients SET state = ? WHERE document_id = ? AND member = ?'),
      insertHistory: this.db.prepare('INSERT INTO edoc_history VALUES (?, ?, ?, ?, ?, ?, ?)'),
      history: this.db.prepare('SELECT code, at, by, message_id AS messageId, description FROM edoc_history WHERE document_id = ? AND member = ? ORDER BY rowid'),
      insertPackage: this.db.prepare('INSERT OR IGNORE INTO edoc_packages VALUES (@messageId, @type, @documentId, @packageDocumentId, @businessDocType, @from, @to, @at)'),
      packages: this.db.prepare(`SELECT message_id AS messageId, type, document_id AS documentId, package_document_id AS packageDocumentId,
        business_doc_type AS businessDocType, from_member AS "from", to_member AS "to", at FROM edoc_packages WHERE document_id = ? ORDER BY at, rowid`),
      grant: this.db.prepare('INSERT OR IGNORE INTO attachment_access VALUES (?, ?)'),
      mayRead: this.db.prepare('SELECT 1 FROM attachment_access WHERE sha256 = ? AND member = ?'),
    };
  }

  recipient(documentId: string, member: string): RecipientRecord | null {
    const row = this.statements.recipient.get(documentId, member) as (Omit<RecipientRecord, 'state'> & { state: string }) | undefined;
    return row ? { ...row, state: JSON.parse(row.state) as RecipientState } : null;
  }

  senderOf(documentId: string): string | null {
    return (this.statements.document.get(documentId) as { sender: string } | undefined)?.sender ?? null;
  }

  /** Everything one accepted submission changed, in one transaction. */
  readonly record = (changes: DocumentChanges) => this.recordTx(changes);

  private readonly recordTx = (changes: DocumentChanges): void => {
    this.db.transaction(() => {
      for (const d of changes.documents ?? []) this.statements.insertDocument.run(d.documentId, d.sender, d.subject ?? null, d.at);
      for (const r of changes.newRecipients ?? []) this.statements.insertRecipient.run(r.documentId, r.member, r.messageId, JSON.stringify(INITIAL_STATE));
      for (const s of changes.states ?? []) {
        this.statements.updateState.run(JSON.stringify(s.state), s.documentId, s.member);
        if (s.recorded) this.statements.insertHistory.run(s.documentId, s.member, s.recorded, s.at, s.by, s.messageId, s.description ?? null);
      }
      for (const p of changes.packages ?? []) this.statements.insertPackage.run(p);
      for (const g of changes.grants ?? []) this.statements.grant.run(g.sha256, g.member);
    })();
  };

  mayReadAttachment(sha256: string, member: string): boolean {
    return this.statements.mayRead.get(sha256, member) !== undefined;
  }

  grantAttachment(sha256: string, member: string): void {
    this.statements.grant.run(sha256, member);
  }

  document(documentId: string): DocumentView | null {
    const doc = this.statements.document.get(documentId) as { documentId: string; sender: string; subject: string | null; sentAt: string } | undefined;
    if (!doc) return null;
    const recipients = (this.statements.recipients.all(documentId) as { member: string; messageId: string; state: string }[]).map((r) => ({
      member: r.member,
      messageId: r.messageId,
      state: JSON.parse(r.state) as RecipientState,
      history: (this.statements.history.all(documentId, r.member) as (HistoryEntry & { description: string | null })[]).map(({ description, ...h }) => ({
        ...h,
        ...(description ? { description } : {}),
      })),
    }));
    return { documentId, from: doc.sender, subject: doc.subject, sentAt: doc.sentAt, recipients, packages: this.statements.packages.all(documentId) as PackageRecord[] };
  }

  close(): void {
    this.db.close();
  }
}

export interface DocumentChanges {
  documents?: { documentId: string; sender: string; subject?: string; at: string }[];
  newRecipients?: { documentId: string; member: string; messageId: string }[];
  states?: { documentId: string; member: string; state: RecipientState; recorded: string | null; at: string; by: 'recipient' | 'bus'; messageId: string; description?: string }[];
  packages?: PackageRecord[];
  grants?: { sha256: string; member: string }[];
}
