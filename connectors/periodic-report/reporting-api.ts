// The reporting information system's submission API, as the connector speaks it: the bus's
// report.submit payload mapped to the system's own fields, and its answers read back. Keeping
// the mapping here means a change on the reporting system's side is a change in this file only.
import type { Envelope } from '@lgsp/sdk';

/** report.submit payload (schemas/report.submit.schema.json). */
export interface ReportSubmission {
  reportType: 'tthc-thang' | 'cchc-quy' | 'cds-nam';
  period: string;
  dueDate: string;
  title: string;
  reportNumber?: string;
  preparedBy?: { unit?: string; position?: string };
  notes?: string;
  figures: Record<string, number>;
}

/** The body the reporting system takes at POST <base>/api/v1/bao-cao. */
export interface ReportingSystemReport {
  maThongDiep: string;
  donViGui: { maDinhDanh: string; heThong: string };
  loaiBaoCao: string;
  kyBaoCao: string;
  hanNop: string;
  tieuDe: string;
  soKyHieu?: string;
  nguoiLap?: { donVi?: string; chucVu?: string };
  soLieu: Record<string, number>;
  ghiChu?: string;
}

/** Its receipt (HTTP 200/201). */
export interface ReportingReceipt {
  soBienNhan: string;
  thoiGianNhan: string;
  dungHan: boolean;
  soNgayTre: number;
  lanNop: number;
}

export function toReportingSystem(message: Envelope<ReportSubmission>): ReportingSystemReport {
  const r = message.data;
  return {
    maThongDiep: message.id,
    donViGui: { maDinhDanh: message.from.member, heThong: message.from.system },
    loaiBaoCao: r.reportType,
    kyBaoCao: r.period,
    hanNop: r.dueDate,
    tieuDe: r.title,
    ...(r.reportNumber ? { soKyHieu: r.reportNumber } : {}),
    ...(r.preparedBy ? { nguoiLap: { donVi: r.preparedBy.unit, chucVu: r.preparedBy.position } } : {}),
    soLieu: r.figures,
    ...(r.notes ? { ghiChu: r.notes } : {}),
  };
}

/** The receipt in a 2xx body, or null when the body is not one (then the outcome is unknown). */
export function readReceipt(body: string): ReportingReceipt | null {
  try {
    const r = JSON.parse(body) as Partial<ReportingReceipt>;
    if (typeof r.soBienNhan !== 'string' || !r.soBienNhan || typeof r.dungHan !== 'boolean') return null;
    return {
      soBienNhan: r.soBienNhan,
      thoiGianNhan: String(r.thoiGianNhan ?? ''),
      dungHan: r.dungHan,
      soNgayTre: Number(r.soNgayTre ?? 0),
      lanNop: Number(r.lanNop ?? 1),
    };
  } catch {
    return null;
  }
}

/**
 * Why the system refused a report (HTTP 422), as codes and field names only: the reason goes
 * to the dead letter and the audit log, which must not carry the report's content.
 */
export function refusalReason(body: string): string {
  try {
    const r = JSON.parse(body) as { ma?: unknown; loi?: { truong?: unknown }[] };
    const code = typeof r.ma === 'string' ? r.ma : 'KHONG_RO';
    const fields = Array.isArray(r.loi) ? r.loi.map((l) => String(l.truong ?? '')).filter(Boolean) : [];
    return fields.length ? `${code} (${fields.slice(0, 10).join(', ')})` : code;
  } catch {
    return 'no readable reason';
  }
}
