// The mock portal's data, in PostgreSQL (portal_* tables) so it survives restarts: dossiers per
// agency (madonvi), their status history, and the outbox of online-filed dossiers still to be
// handed to the province. Every call is one transaction: a batch the portal refuses leaves
// nothing behind.
import type { Database, Queryable } from '../platform/database.js';
import { PortalError } from './portal-codes.js';
import { INITIAL_STATUSES, formatPortalDate, isLegalTransition } from './portal-rules.js';

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
  constructor(private readonly db: Database) {}

  async history(agency: string, code: string): Promise<HistoryEntry[]> {
    const { rows } = await this.db.query<{ status: string; handled_at: string | null; note: string | null; via: HistoryEntry['via']; recorded_at: string }>(
      'SELECT status, handled_at, note, via, recorded_at FROM portal_status_history WHERE agency = $1 AND code = $2 ORDER BY seq',
      [agency, code],
    );
    return rows.map((r) => ({ status: r.status, handledAt: r.handled_at, note: r.note, via: r.via, recordedAt: r.recorded_at }));
  }

  /**
   * DongBoHoSoMC. isUpdating=false creates; a second creation of the same MaHoSo is accepted
   * the way a portal that trusts its client would, but counted in `copies`, so a client that
   * re-creates instead of updating is caught. isUpdating=true updates an existing dossier and
   * applies a status change only along the lifecycle.
   */
  syncDossiers(agency: string, items: Record<string, unknown>[], isUpdating: boolean): Promise<void> {
    return this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      for (const [i, item] of items.entries()) {
        const code = String(item.MaHoSo);
        const status = String(item.TrangThaiHoSo);
        const existing = await rowOf(tx, agency, code);
        if (!isUpdating) {
          if (existing) {
            await tx.query('UPDATE portal_dossiers SET copies = copies + 1, submissions = submissions + 1, updated_at = $1 WHERE agency = $2 AND code = $3', [now, agency, code]);
            continue;
          }
          if (!INITIAL_STATUSES.includes(status)) {
            throw new PortalError('ILLEGAL_TRANSITION', `Hồ sơ mới phải có trạng thái ${INITIAL_STATUSES.join(', ')} (a new dossier must start at TrangThaiHoSo ${INITIAL_STATUSES.join(', ')})`, [
              { field: `data[${i}].TrangThaiHoSo`, message: `trạng thái ban đầu không hợp lệ: ${status}` },
            ]);
          }
          await tx.query(
            "INSERT INTO portal_dossiers (agency, code, record, status, source, copies, submissions, created_at, updated_at) VALUES ($1, $2, $3, $4, 'one-stop', 1, 1, $5, $5)",
            [agency, code, JSON.stringify(item), status, now],
          );
          await addHistory(tx, agency, code, { status, handledAt: (item.NgayTiepNhan as string) ?? null, note: null, via: 'DongBoHoSoMC' });
          continue;
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
          await addHistory(tx, agency, code, { status, handledAt: status === '10' ? ((item.NgayTra as string) ?? null) : null, note: null, via: 'DongBoHoSoMC' });
        }
        await tx.query('UPDATE portal_dossiers SET record = $1, status = $2, submissions = submissions + 1, updated_at = $3 WHERE agency = $4 AND code = $5', [
          JSON.stringify({ ...JSON.parse(existing.record), ...item }),
          status,
          now,
          agency,
          code,
        ]);
      }
    });
  }

  /**
   * CapNhatTienDoHoSoMC. An update identical to one already recorded (same TrangThai and
   * ThoiDiemXuLy) is acknowledged without recording it again, so a client's retry after a lost
   * answer cannot double an entry of the status history.
   */
  progressDossiers(agency: string, items: Record<string, unknown>[]): Promise<void> {
    return this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      for (const [i, item] of items.entries()) {
        const code = String(item.MaHoSo);
        const status = String(item.TrangThai);
        const handledAt = String(item.ThoiDiemXuLy);
        const existing = await rowOf(tx, agency, code);
        if (!existing) throw new PortalError('DOSSIER_NOT_FOUND', `Không tìm thấy hồ sơ ${code}`, [{ field: `data[${i}].MaHoSo`, message: 'không tồn tại' }]);
        const touch = () => tx.query('UPDATE portal_dossiers SET progress_updates = progress_updates + 1, updated_at = $1 WHERE agency = $2 AND code = $3', [now, agency, code]);
        const seen = (await tx.query('SELECT 1 FROM portal_status_history WHERE agency = $1 AND code = $2 AND status = $3 AND handled_at = $4', [agency, code, status, handledAt])).rowCount;
        if (seen || status === existing.status) {
          await touch();
          continue;
        }
        if (!isLegalTransition(existing.status, status)) {
          throw new PortalError('ILLEGAL_TRANSITION', `Không thể chuyển hồ sơ ${code} từ trạng thái ${existing.status} sang ${status}`, [{ field: `data[${i}].TrangThai`, message: `chuyển trạng thái ${existing.status} → ${status} không hợp lệ` }], {
            current_status: existing.status,
          });
        }
        const record = JSON.parse(existing.record) as Record<string, unknown>;
        record.TrangThaiHoSo = status;
        if (status === '10') {
          const returnedAt = (item.NgayTra as string) || handledAt;
          // The rule DongBoHoSoMC applies (portal-rules.ts): a dossier is not returned before it was received.
          if (typeof record.NgayTiepNhan === 'string' && returnedAt < record.NgayTiepNhan) {
            const field = item.NgayTra ? 'NgayTra' : 'ThoiDiemXuLy';
            throw new PortalError('INVALID_DATA', undefined, [{ field: `data[${i}].${field}`, message: 'không được trước NgayTiepNhan (must not be before NgayTiepNhan)' }]);
          }
          record.NgayTra = returnedAt;
        }
        await tx.query('UPDATE portal_dossiers SET record = $1, status = $2, updated_at = $3 WHERE agency = $4 AND code = $5', [JSON.stringify(record), status, now, agency, code]);
        await touch();
        await addHistory(tx, agency, code, { status, handledAt, note: (item.NoiDungXuLy as string) || null, via: 'CapNhatTienDoHoSoMC' });
      }
    });
  }

  /** An online filing: stored with status 1 and queued for the province in the same transaction. */
  fileOnline(agency: string, record: Record<string, unknown>): Promise<void> {
    return this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      const code = String(record.MaHoSo);
      await tx.query(
        "INSERT INTO portal_dossiers (agency, code, record, status, source, copies, submissions, created_at, updated_at) VALUES ($1, $2, $3, '1', 'online', 1, 0, $4, $4)",
        [agency, code, JSON.stringify(record), now],
      );
      await addHistory(tx, agency, code, { status: '1', handledAt: String(record.NgayTiepNhan), note: 'Nộp trực tuyến', via: 'online' });
      await tx.query('INSERT INTO portal_outbox (agency, code) VALUES ($1, $2)', [agency, code]);
    });
  }

  /** A fresh dossier number for online filings: <agency>-<yyMMdd>-<sequence>. */
  async nextOnlineCode(agency: string, now = Date.now()): Promise<string> {
    const { rows } = await this.db.query<{ value: number }>(
      "INSERT INTO portal_counters (name, value) VALUES ('online', 1) ON CONFLICT (name) DO UPDATE SET value = portal_counters.value + 1 RETURNING value",
    );
    return `${agency}-${formatPortalDate(now).slice(2, 8)}-${String(rows[0].value).padStart(6, '0')}`;
  }

  async get(agency: string, code: string): Promise<StoredDossier | null> {
    const r = await rowOf(this.db, agency, code);
    return r ? toStored(r) : null;
  }

  async list(filter: { agency?: string; code?: string; source?: DossierSource } = {}): Promise<StoredDossier[]> {
    const { rows } = await this.db.query<DossierRow>(
      `SELECT * FROM portal_dossiers WHERE ($1::text IS NULL OR agency = $1) AND ($2::text IS NULL OR code = $2)
       AND ($3::text IS NULL OR source = $3) ORDER BY created_at, code`,
      [filter.agency ?? null, filter.code ?? null, filter.source ?? null],
    );
    return rows.map(toStored);
  }

  async outboxDue(now: number, limit = 20): Promise<OutboxEntry[]> {
    const { rows } = await this.db.query(
      'SELECT * FROM portal_outbox WHERE delivered_at IS NULL AND NOT failed_permanently AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2',
      [now, limit],
    );
    return rows.map(toOutbox);
  }

  async outbox(agency: string, code: string): Promise<OutboxEntry | null> {
    const r = (await this.db.query('SELECT * FROM portal_outbox WHERE agency = $1 AND code = $2', [agency, code])).rows[0];
    return r ? toOutbox(r) : null;
  }

  async outboxDelivered(agency: string, code: string, messageId: string): Promise<void> {
    await this.db.query('UPDATE portal_outbox SET attempts = attempts + 1, message_id = $1, delivered_at = $2, last_error = NULL WHERE agency = $3 AND code = $4', [
      messageId,
      new Date().toISOString(),
      agency,
      code,
    ]);
  }

  async outboxFailed(agency: string, code: string, error: string, retryAt: number | null): Promise<void> {
    await this.db.query('UPDATE portal_outbox SET attempts = attempts + 1, last_error = $1, failed_permanently = $2, next_attempt_at = $3 WHERE agency = $4 AND code = $5', [
      error.slice(0, 500),
      retryAt === null,
      retryAt ?? 0,
      agency,
      code,
    ]);
  }
}

async function rowOf(q: Pick<Database, 'query'>, agency: string, code: string): Promise<DossierRow | undefined> {
  return (await q.query<DossierRow>('SELECT * FROM portal_dossiers WHERE agency = $1 AND code = $2', [agency, code])).rows[0];
}

async function addHistory(tx: Queryable, agency: string, code: string, entry: Omit<HistoryEntry, 'recordedAt'>): Promise<void> {
  await tx.query('INSERT INTO portal_status_history (agency, code, status, handled_at, note, via, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
    agency,
    code,
    entry.status,
    entry.handledAt,
    entry.note,
    entry.via,
    new Date().toISOString(),
  ]);
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
    failedPermanently: r.failed_permanently === true,
    nextAttemptAt: Number(r.next_attempt_at),
  };
}
