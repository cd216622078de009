// The mock portal's data, in SQLite so it survives restarts: dossiers per agency (madonvi),
// their status history, and the outbox of online-filed dossiers still to be handed to the
// province. Every call is one transaction: a batch the portal refuses leaves nothing behind.
import Database from 'better-sqlite3';
import { PortalError } from './portal-codes.js';
import { INITIAL_STATUSES, formatPortalDate, isLegalTransition } from './portal-rules.js';
import { openSqlite } from '../platform/sqlite-file.js';

export type DossierSource = 'one-stop' | 'online';

export interface HistoryEntry {
  status: string;
  /** ThoiDiemXuLy as the client reported it (yyyyMMddHHmmss), when it did. */
  handledAt: string | null;
  note: string | null;
  via: 'DongBoHoSoMC' | 'CapNhatTienDoHoSoMC' | 'online';
  recordedAt: string;
}

export interface StoredDossier {
  agency: string;
  code: string;
  record: Record<string, unknown>;
  status: string;
  source: DossierSource;
  /** How many times a client created this dossier; more than 1 means it created a duplicate. */
  copies: number;
  /** DongBoHoSoMC calls that carried this dossier (creations and updates). */
  submissions: number;
  /** CapNhatTienDoHoSoMC items that carried this dossier (including repeats). */
  progressUpdates: number;
  createdAt: string;
  updatedAt: string;
}

export interface OutboxEntry {
  agency: string;
  code: string;
  attempts: number;
  lastError: string | null;
  messageId: string | null;
  deliveredAt: string | null;
  failedPermanently: boolean;
  nextAttemptAt: number;
}

interface DossierRow {
  agency: string;
  code: string;
  record: string;
  status: string;
  source: DossierSource;
  copies: number;
  submissions: number;
  progress_updates: number;
  created_at: string;
  updated_at: string;
}

export class PortalStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = openSqlite(file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS dossiers (
        agency TEXT NOT NULL, code TEXT NOT NULL, record TEXT NOT NULL, status TEXT NOT NULL,
        source TEXT NOT NULL, copies INTEGER NOT NULL DEFAULT 1, submissions INTEGER NOT NULL DEFAULT 0,
        progress_updates INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (agency, code));
      CREATE TABLE IF NOT EXISTS status_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, agency TEXT NOT NULL, code TEXT NOT NULL, status TEXT NOT NULL,
        handled_at TEXT, note TEXT, via TEXT NOT NULL, recorded_at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS status_history_by_dossier ON status_history (agency, code, seq);
      CREATE TABLE IF NOT EXISTS outbox (
        agency TEXT NOT NULL, code TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        message_id TEXT, delivered_at TEXT, failed_permanently INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (agency, code));
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
  }

  private row(agency: string, code: string): DossierRow | undefined {
    return this.db.prepare('SELECT * FROM dossiers WHERE agency = ? AND code = ?').get(agency, code) as DossierRow | undefined;
  }

  private addHistory(agency: string, code: string, entry: Omit<HistoryEntry, 'recordedAt'>): void {
    this.db
      .prepare('INSERT INTO status_history (agency, code, status, handled_at, note, via, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(agency, code, entry.status, entry.handledAt, entry.note, entry.via, new Date().toISOString());
  }

  history(agency: string, code: string): HistoryEntry[] {
    const rows = this.db
      .prepare('SELECT status, handled_at, note, via, recorded_at FROM status_history WHERE agency = ? AND code = ? ORDER BY seq')
      .all(agency, code) as { status: string; handled_at: string | null; note: string | null; via: HistoryEntry['via']; recorded_at: string }[];
    return rows.map((r) => ({ status: r.status, handledAt: r.handled_at, note: r.note, via: r.via, recordedAt: r.recorded_at }));
  }

  /**
   * DongBoHoSoMC. isUpdating=false creates; a second creation of the same MaHoSo is accepted
   * the way a portal that trusts its client would, but counted in `copies`, so a client that
   * re-creates instead of updating is caught. isUpdating=true updates an existing dossier and
   * applies a status change only along the lifecycle.
   */
  readonly syncDossiers = (agency: string, items: Record<string, unknown>[], isUpdating: boolean): void =>
    this.db.transaction(() => {
      const now = new Date().toISOString();
      items.forEach((item, i) => {
        const code = String(item.MaHoSo);
        const status = String(item.TrangThaiHoSo);
        const existing = this.row(agency, code);
        if (!isUpdating) {
          if (existing) {
            this.db.prepare('UPDATE dossiers SET copies = copies + 1, submissions = submissions + 1, updated_at = ? WHERE agency = ? AND code = ?').run(now, agency, code);
            return;
          }
          if (!INITIAL_STATUSES.includes(status)) {
            throw new PortalError('ILLEGAL_TRANSITION', `Hồ sơ mới phải có trạng thái ${INITIAL_STATUSES.join(', ')} (a new dossier must start at TrangThaiHoSo ${INITIAL_STATUSES.join(', ')})`, [
              { field: `data[${i}].TrangThaiHoSo`, message: `trạng thái ban đầu không hợp lệ: ${status}` },
            ]);
          }
          this.db
            .prepare("INSERT INTO dossiers (agency, code, record, status, source, copies, submissions, created_at, updated_at) VALUES (?, ?, ?, ?, 'one-stop', 1, 1, ?, ?)")
            .run(agency, code, JSON.stringify(item), status, now, now);
          this.addHistory(agency, code, { status, handledAt: (item.NgayTiepNhan as string) ?? null, note: null, via: 'DongBoHoSoMC' });
          return;
        }
        if (!existing) {
          throw new PortalError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${code} để cập nhật (isUpdating=true for an unknown dossier)`, [{ field: `data[${i}].MaHoSo`, message: 'không tồn tại' }]);
        }
        if (status !== existing.status) {
          if (!isLegalTransition(existing.status, status)) {
            throw new PortalError('ILLEGAL_TRANSITION', `Không thể chuyển hồ sơ ${code} từ trạng thái ${existing.status} sang ${status}`, [{ field: `data[${i}].TrangThaiHoSo`, message: `chuyển trạng thái ${existing.status} → ${status} không hợp lệ` }], {
              current_status: existing.status,
            });
          }
          this.addHistory(agency, code, { status, handledAt: status === '10' ? ((item.NgayTra as string) ?? null) : null, note: null, via: 'DongBoHoSoMC' });
        }
        this.db
          .prepare('UPDATE dossiers SET record = ?, status = ?, submissions = submissions + 1, updated_at = ? WHERE agency = ? AND code = ?')
          .run(JSON.stringify({ ...JSON.parse(existing.record), ...item }), status, now, agency, code);
      });
    })();

  /**
   * CapNhatTienDoHoSoMC. An update identical to one already recorded (same TrangThai and
   * ThoiDiemXuLy) is acknowledged without recording it again, so a client's retry after a lost
   * answer cannot double an entry of the status history.
   */
  readonly progressDossiers = (agency: string, items: Record<string, unknown>[]): void =>
    this.db.transaction(() => {
      const now = new Date().toISOString();
      items.forEach((item, i) => {
        const code = String(item.MaHoSo);
        const status = String(item.TrangThai);
        const handledAt = String(item.ThoiDiemXuLy);
        const existing = this.row(agency, code);
        if (!existing) throw new PortalError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${code}`, [{ field: `data[${i}].MaHoSo`, message: 'không tồn tại' }]);
        const touch = () => this.db.prepare('UPDATE dossiers SET progress_updates = progress_updates + 1, updated_at = ? WHERE agency = ? AND code = ?').run(now, agency, code);
        const seen = this.db.prepare('SELECT 1 FROM status_history WHERE agency = ? AND code = ? AND status = ? AND handled_at = ?').get(agency, code, status, handledAt);
        if (seen || status === existing.status) {
          touch();
          return;
        }
        if (!isLegalTransition(existing.status, status)) {
          throw new PortalError('ILLEGAL_TRANSITION', `Không thể chuyển hồ sơ ${code} từ trạng thái ${existing.status} sang ${status}`, [{ field: `data[${i}].TrangThai`, message: `chuyển trạng thái ${existing.status} → ${status} không hợp lệ` }], {
            current_status: existing.status,
          });
        }
        const record = JSON.parse(existing.record) as Record<string, unknown>;
        record.TrangThaiHoSo = status;
        if (status === '10') record.NgayTra = (item.NgayTra as string) || handledAt;
        this.db.prepare('UPDATE dossiers SET record = ?, status = ?, updated_at = ? WHERE agency = ? AND code = ?').run(JSON.stringify(record), status, now, agency, code);
        touch();
        this.addHistory(agency, code, { status, handledAt, note: (item.NoiDungXuLy as string) || null, via: 'CapNhatTienDoHoSoMC' });
      });
    })();

  /** An online filing: stored with status 1 and queued for the province in the same transaction. */
  readonly fileOnline = (agency: string, record: Record<string, unknown>): void =>
    this.db.transaction(() => {
      const now = new Date().toISOString();
      const code = String(record.MaHoSo);
      this.db
        .prepare("INSERT INTO dossiers (agency, code, record, status, source, copies, submissions, created_at, updated_at) VALUES (?, ?, ?, '1', 'online', 1, 0, ?, ?)")
        .run(agency, code, JSON.stringify(record), now, now);
      this.addHistory(agency, code, { status: '1', handledAt: String(record.NgayTiepNhan), note: 'Nộp trực tuyến', via: 'online' });
      this.db.prepare('INSERT INTO outbox (agency, code) VALUES (?, ?)').run(agency, code);
    })();

  /** A fresh dossier number for online filings: <agency>-<yyMMdd>-<sequence>. */
  nextOnlineCode(agency: string, now = Date.now()): string {
    const value = this.db.transaction(() => {
      this.db.prepare("INSERT INTO counters (name, value) VALUES ('online', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1").run();
      return (this.db.prepare("SELECT value FROM counters WHERE name = 'online'").get() as { value: number }).value;
    })();
    return `${agency}-${formatPortalDate(now).slice(2, 8)}-${String(value).padStart(6, '0')}`;
  }

  get(agency: string, code: string): StoredDossier | null {
    const r = this.row(agency, code);
    return r ? toStored(r) : null;
  }

  list(filter: { agency?: string; code?: string; source?: DossierSource } = {}): StoredDossier[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM dossiers WHERE (@agency IS NULL OR agency = @agency) AND (@code IS NULL OR code = @code)
         AND (@source IS NULL OR source = @source) ORDER BY created_at, code`,
      )
      .all({ agency: filter.agency ?? null, code: filter.code ?? null, source: filter.source ?? null }) as DossierRow[];
    return rows.map(toStored);
  }

  outboxDue(now: number, limit = 20): OutboxEntry[] {
    return (
      this.db
        .prepare('SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_permanently = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?')
        .all(now, limit) as Record<string, unknown>[]
    ).map(toOutbox);
  }

  outbox(agency: string, code: string): OutboxEntry | null {
    const r = this.db.prepare('SELECT * FROM outbox WHERE agency = ? AND code = ?').get(agency, code) as Record<string, unknown> | undefined;
    return r ? toOutbox(r) : null;
  }

  outboxDelivered(agency: string, code: string, messageId: string): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, message_id = ?, delivered_at = ?, last_error = NULL WHERE agency = ? AND code = ?').run(messageId, new Date().toISOString(), agency, code);
  }

  outboxFailed(agency: string, code: string, error: string, retryAt: number | null): void {
    this.db
      .prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_permanently = ?, next_attempt_at = ? WHERE agency = ? AND code = ?')
      .run(error.slice(0, 500), retryAt === null ? 1 : 0, retryAt ?? 0, agency, code);
  }

  close(): void {
    this.db.close();
  }
}

function toStored(r: DossierRow): StoredDossier {
  return {
    agency: r.agency,
    code: r.code,
    record: JSON.parse(r.record) as Record<string, unknown>,
    status: r.status,
    source: r.source,
    copies: r.copies,
    submissions: r.submissions,
    progressUpdates: r.progress_updates,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toOutbox(r: Record<string, unknown>): OutboxEntry {
  return {
    agency: r.agency as string,
    code: r.code as string,
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    messageId: (r.message_id as string | null) ?? null,
    deliveredAt: (r.delivered_at as string | null) ?? null,
    failedPermanently: r.failed_permanently === 1,
    nextAttemptAt: r.next_attempt_at as number,
  };
}
