// The e-government indicators provincial plans track, computed from generic bus traffic per
// agency and period (DESIGN §1; the plans in shared/reference: "100% văn bản trao đổi giữa các
// cơ quan nhà nước dưới dạng điện tử", one-stop-shop dossiers synced with the National Public
// Service Portal, "tỷ lệ hồ sơ giải quyết đúng hạn"). Definitions, per message-type family:
//
// Documents (edoc.*): a document is an edoc message that is not a status packet (type not
// ending in `.status`); a package sent to three agencies is three documents exchanged. `sent`
// counts documents accepted in the period, `delivered` those the receiving system acknowledged,
// `electronicRate` = delivered / sent: the share of documents handed to the bus that were
// exchanged electronically end to end. The status breakdown takes each document's latest
// business status (edXML StatusCode, from `status` events on it, or from the status packets its
// recipient sent back in the same thread), else its transport status.
//
// Dossiers (dossier.*): a dossier is a thread of dossier messages sharing a correlation id (the
// one-stop-shop's dossier code); lookups (`*.lookup`) are queries, not syncs. `synced` counts
// dossiers with at least one sync message delivered to the national portal, `syncRate` =
// synced / dossiers. On time: among dossiers whose result is known (an `onTime` flag, or a due
// and a finish date — DVCQG NgayHenTra / NgayTra — in a status event), the share finished by the
// due date. The status breakdown is each dossier's latest TrangThaiHoSo, else its transport
// status.
//
// Agencies: a document counts for its sending agency (and as `received` for the receiver); a
// dossier for its agency: the sender of its messages, or the receiver of a filing the portal
// sent (dossier.submitted), whose later progress then joins the same dossier. A period is
// [from, to) in local dates (Asia/Ho_Chi_Minh) and selects by acceptance time. Empty families
// report zeros and null rates (shown as "—"), never a division by zero.
import type { Member } from '../platform/registry.js';
import { DOSSIER_STATUS_LABELS, EDOC_STATUS_LABELS, TRANSPORT_STATUS_LABELS, normaliseStatusCode } from './business-status.js';
import type { KpiMessageRow, MessageIndex } from './message-index.js';

export interface DocumentKpi {
  sent: number;
  delivered: number;
  failed: number;
  received: number;
  electronicRate: number | null;
  statuses: Record<string, number>;
}

export interface DossierKpi {
  dossiers: number;
  synced: number;
  syncRate: number | null;
  onTime: number;
  late: number;
  onTimeRate: number | null;
  statuses: Record<string, number>;
}

export interface AgencyKpi {
  member: string;
  name: string;
  documents: DocumentKpi;
  dossiers: DossierKpi;
}

export interface KpiReport {
  period: { from: string; to: string; timeZone: string };
  generatedAt: string;
  /** The agency the report is filtered to, null for the whole province: `total` is that scope's. */
  member: string | null;
  total: Omit<AgencyKpi, 'member' | 'name'>;
  agencies: AgencyKpi[];
  statusLabels: { documents: Record<string, { vi: string; en: string }>; dossiers: Record<string, { vi: string; en: string }> };
}

export const REPORT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** A local calendar date (YYYY-MM-DD, UTC+7) as the UTC instant its day starts. */
export function localDayStart(date: string): string {
  return new Date(`${date}T00:00:00+07:00`).toISOString();
}

const emptyDocuments = (): DocumentKpi => ({ sent: 0, delivered: 0, failed: 0, received: 0, electronicRate: null, statuses: {} });
const emptyDossiers = (): DossierKpi => ({ dossiers: 0, synced: 0, syncRate: null, onTime: 0, late: 0, onTimeRate: null, statuses: {} });
const rate = (n: number, d: number): number | null => (d === 0 ? null : Math.round((n / d) * 10_000) / 10_000);
const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

/**
 * The agency a dossier message belongs to: its sender, except a dossier filed online, which the
 * portal sends to the agency (dossier.submitted) — that dossier is the receiving agency's, and
 * its later progress, sent by the agency, is the same dossier.
 */
const dossierOwner = (r: { type: string; fromMember: string; toMember: string }) => (r.type === 'dossier.submitted' ? r.toMember : r.fromMember);

/**
 * A business thread is an agency's correlation id: another agency reusing the same correlation
 * id (a dossier code is not unique across agencies) starts its own thread, never joins this one.
 */
const threadKey = (r: { type: string; fromMember: string; toMember: string; correlationId: string }) => `${dossierOwner(r)}\u0000${r.correlationId}`;

/** The latest business status of each thread, with the time it was set. */
function latestBusinessStatus(rows: KpiMessageRow[], family: string): Map<string, string> {
  const best = new Map<string, { status: string; at: string }>();
  for (const r of rows) {
    if (!r.businessStatus) continue;
    const prev = best.get(threadKey(r));
    if (!prev || r.businessStatusAt > prev.at) best.set(threadKey(r), { status: normaliseStatusCode(family, r.businessStatus), at: r.businessStatusAt });
  }
  return new Map([...best].map(([k, v]) => [k, v.status]));
}

export async function buildKpiReport(index: MessageIndex, members: Member[], period: { from: string; to: string }, onlyMember?: string): Promise<KpiReport> {
  const fromAt = localDayStart(period.from);
  const toAt = localDayStart(period.to);
  const agencies = new Map<string, AgencyKpi>();
  const agency = (code: string): AgencyKpi => {
    let a = agencies.get(code);
    if (!a) {
      a = { member: code, name: members.find((m) => m.code === code)?.name ?? code, documents: emptyDocuments(), dossiers: emptyDossiers() };
      agencies.set(code, a);
    }
    return a;
  };
  const total = { documents: emptyDocuments(), dossiers: emptyDossiers() };

  // Documents: one message per (document, recipient). Its status is its own latest business
  // status (the document exchange records a recipient's status packets on that message), else
  // the latest status packet that recipient sent about the document, else its transport status.
  const edocRows = await index.kpiRows(fromAt, toAt, 'edoc');
  const documents = edocRows.filter((r) => !r.type.endsWith('.status'));
  const packets = (await index.threadRows('edoc', [...new Set(documents.map((d) => d.correlationId))])).filter((r) => r.type.endsWith('.status'));
  const packetStatus = new Map<string, { status: string; at: string }>();
  for (const p of packets) {
    if (!p.businessStatus) continue;
    const key = `${p.correlationId}\u0000${p.fromMember}`;
    const prev = packetStatus.get(key);
    if (!prev || p.businessStatusAt > prev.at) packetStatus.set(key, { status: normaliseStatusCode('edoc', p.businessStatus), at: p.businessStatusAt });
  }
  for (const doc of documents) {
    const status = doc.businessStatus
      ? normaliseStatusCode('edoc', doc.businessStatus)
      : (packetStatus.get(`${doc.correlationId}\u0000${doc.toMember}`)?.status ?? doc.status);
    for (const k of [agency(doc.fromMember).documents, total.documents]) {
      k.sent++;
      if (doc.status === 'delivered') k.delivered++;
      if (doc.status === 'dead_lettered') k.failed++;
      bump(k.statuses, status);
    }
    agency(doc.toMember).documents.received++;
    total.documents.received++;
  }

  // Dossiers.
  const dossierRows = (await index.kpiRows(fromAt, toAt, 'dossier')).filter((r) => !r.type.endsWith('.lookup'));
  const threads = new Map<string, KpiMessageRow[]>();
  for (const r of dossierRows) threads.set(threadKey(r), [...(threads.get(threadKey(r)) ?? []), r]);
  const allThreadRows = (await index.threadRows('dossier', [...new Set(dossierRows.map((r) => r.correlationId))])).filter(
    (r) => !r.type.endsWith('.lookup') && threads.has(threadKey(r)),
  );
  const dossierStatus = latestBusinessStatus(allThreadRows, 'dossier');
  const onTimeOf = new Map<string, boolean>();
  for (const r of [...allThreadRows].sort((a, b) => (a.businessStatusAt < b.businessStatusAt ? -1 : 1))) {
    if (r.onTime !== null) onTimeOf.set(threadKey(r), r.onTime === 1);
  }
  for (const [dossierId, rows] of threads) {
    const all = allThreadRows.filter((r) => threadKey(r) === dossierId);
    // Synced: a message of the agency's delivered to the portal (an online filing came from it).
    const synced = all.some((r) => r.status === 'delivered' && r.type !== 'dossier.submitted');
    const transport = synced ? 'delivered' : rows.at(-1)!.status;
    const status = dossierStatus.get(dossierId) ?? transport;
    const onTime = onTimeOf.get(dossierId);
    for (const k of [agency(dossierOwner(rows[0])).dossiers, total.dossiers]) {
      k.dossiers++;
      if (synced) k.synced++;
      if (onTime === true) k.onTime++;
      if (onTime === false) k.late++;
      bump(k.statuses, status);
    }
  }

  const finish = (k: { documents: DocumentKpi; dossiers: DossierKpi }) => {
    k.documents.electronicRate = rate(k.documents.delivered, k.documents.sent);
    k.dossiers.syncRate = rate(k.dossiers.synced, k.dossiers.dossiers);
    k.dossiers.onTimeRate = rate(k.dossiers.onTime, k.dossiers.onTime + k.dossiers.late);
  };
  finish(total);
  for (const a of agencies.values()) finish(a);
  let list = [...agencies.values()].sort((a, b) => a.member.localeCompare(b.member));
  let scopeTotal: KpiReport['total'] = total;
  if (onlyMember) {
    list = list.filter((a) => a.member === onlyMember);
    // The total follows the filter: a report (or an export) for one agency must not carry the
    // province's figures, and its rows must add up to its total.
    scopeTotal = list[0] ? { documents: list[0].documents, dossiers: list[0].dossiers } : { documents: emptyDocuments(), dossiers: emptyDossiers() };
  }
  return {
    period: { from: period.from, to: period.to, timeZone: REPORT_TIME_ZONE },
    generatedAt: new Date().toISOString(),
    member: onlyMember ?? null,
    total: scopeTotal,
    agencies: list,
    statusLabels: {
      documents: { ...EDOC_STATUS_LABELS, ...TRANSPORT_STATUS_LABELS },
      dossiers: { ...DOSSIER_STATUS_LABELS, ...TRANSPORT_STATUS_LABELS },
    },
  };
}

const CSV_HEADERS: Record<'vi' | 'en', { documents: string[]; dossiers: string[]; documentStatus: string; dossierStatus: string; otherStatuses: string }> = {
  vi: {
    documents: [
      'Mã cơ quan', 'Tên cơ quan', 'Từ ngày', 'Đến ngày (không gồm)',
      'Văn bản đã gửi', 'Văn bản đã chuyển đến', 'Văn bản chuyển thất bại', 'Văn bản đã nhận', 'Tỷ lệ văn bản trao đổi điện tử (%)',
    ],
    dossiers: ['Hồ sơ', 'Hồ sơ đã đồng bộ Cổng DVCQG', 'Tỷ lệ đồng bộ (%)', 'Hồ sơ đúng hạn', 'Hồ sơ trễ hạn', 'Tỷ lệ đúng hạn (%)'],
    documentStatus: 'Văn bản',
    dossierStatus: 'Hồ sơ',
    otherStatuses: 'trạng thái khác',
  },
  en: {
    documents: [
      'Agency code', 'Agency name', 'From', 'To (exclusive)',
      'Documents sent', 'Documents delivered', 'Documents failed', 'Documents received', 'Electronic exchange rate (%)',
    ],
    dossiers: ['Dossiers', 'Dossiers synced to DVCQG', 'Sync rate (%)', 'Dossiers on time', 'Dossiers late', 'On-time rate (%)'],
    documentStatus: 'Documents',
    dossierStatus: 'Dossiers',
    otherStatuses: 'other statuses',
  },
};

function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  // Quote when needed; a leading = + - @ (or a tab or carriage return before one) would be read
  // as a formula by spreadsheets. Only a whole number stays as it is: "-1+cmd|…" is a formula too.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const percent = (r: number | null) => (r === null ? '' : (r * 100).toFixed(1));

type StatusLabels = Record<string, { vi: string; en: string }>;

/**
 * A status breakdown as columns: one per status the report has a label for (business codes, then
 * transport statuses), in the labels' order, and one for any other code a connector reported
 * (`code: n; …`, empty when there is none). Every export has the same columns whatever its
 * figures, and each count is a number a spreadsheet sums; the breakdown used to be one cell of
 * text per agency ("Hoàn thành: 3; Đang xử lý: 1"), which a sum or a pivot table cannot read.
 */
function statusColumns(labels: StatusLabels, group: string, other: string, lang: 'vi' | 'en'): { headers: string[]; cells: (statuses: Record<string, number>) => unknown[] } {
  // Business codes in their numeric order (an object lists '13' before '01': integer-like keys
  // come first), then the transport statuses as the labels list them.
  const numeric = (code: string) => /^\d+$/.test(code);
  const codes = [...Object.keys(labels).filter(numeric).sort((a, b) => Number(a) - Number(b)), ...Object.keys(labels).filter((code) => !numeric(code))];
  const known = new Set(codes);
  return {
    // Business codes are named with their code (operators and the plans quote "06"); transport statuses by name.
    headers: [...codes.map((code) => `${group}: ${labels[code][lang]}${numeric(code) ? ` (${code})` : ''}`), `${group}: ${other}`],
    cells: (statuses) => [
      ...codes.map((code) => statuses[code] ?? 0),
      Object.entries(statuses)
        .filter(([code]) => !known.has(code))
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([code, n]) => `${code}: ${n}`)
        .join('; '),
    ],
  };
}

/** CSV (RFC 4180, CRLF) with a UTF-8 BOM so spreadsheet programs read Vietnamese correctly. */
export function kpiCsv(report: KpiReport, lang: 'vi' | 'en'): string {
  const words = CSV_HEADERS[lang];
  const documentStatuses = statusColumns(report.statusLabels.documents, words.documentStatus, words.otherStatuses, lang);
  const dossierStatuses = statusColumns(report.statusLabels.dossiers, words.dossierStatus, words.otherStatuses, lang);
  const rows: unknown[][] = [[...words.documents, ...documentStatuses.headers, ...words.dossiers, ...dossierStatuses.headers]];
  const line = (code: string, name: string, k: { documents: DocumentKpi; dossiers: DossierKpi }) => [
    code, name, report.period.from, report.period.to,
    k.documents.sent, k.documents.delivered, k.documents.failed, k.documents.received, percent(k.documents.electronicRate),
    ...documentStatuses.cells(k.documents.statuses),
    k.dossiers.dossiers, k.dossiers.synced, percent(k.dossiers.syncRate), k.dossiers.onTime, k.dossiers.late, percent(k.dossiers.onTimeRate),
    ...dossierStatuses.cells(k.dossiers.statuses),
  ];
  for (const a of report.agencies) rows.push(line(a.member, a.name, a));
  // The total row says whose total it is: the province's, or the one agency the report is for.
  const totalLabel = report.member === null
    ? (lang === 'vi' ? 'Toàn tỉnh' : 'Province total')
    : (lang === 'vi' ? `Tổng của ${report.member}` : `Total for ${report.member}`);
  rows.push(line('', totalLabel, report.total));
  return '\uFEFF' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
