// Business facts the console reads from generic bus events, without knowing any connector:
// a message type's family (`edoc.send` → `edoc`), and from the detail of `status` (and
// `delivered`) events the business status code and the dates an on-time KPI needs. Connectors
// publish these with ctx.emitStatus(detail); the field names accepted below are the ones the
// domain uses (edXML StatusCode, DVCQG TrangThaiHoSo / NgayHenTra / NgayTra) plus plain English
// aliases, so a connector does not have to be written for the console.

export function familyOf(type: string): string {
  const dot = type.indexOf('.');
  return dot > 0 ? type.slice(0, dot) : type;
}

export interface BusinessFacts {
  status: string | null;
  dueAt: string | null;
  finishedAt: string | null;
  onTime: boolean | null;
}

const STATUS_KEYS = ['statusCode', 'StatusCode', 'TrangThaiHoSo', 'trangThaiHoSo', 'businessStatus', 'status'];
const DUE_KEYS = ['dueAt', 'dueDate', 'NgayHenTra', 'ngayHenTra'];
const FINISHED_KEYS = ['finishedAt', 'returnedAt', 'completedAt', 'NgayTra', 'ngayTra'];
const ON_TIME_KEYS = ['onTime', 'DungHan', 'dungHan'];

function firstOf(detail: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) {
    const v = detail[k];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

/**
 * An instant from ISO 8601 or the DVCQG form yyyyMMddHHmmss (Asia/Ho_Chi_Minh, UTC+7 with no
 * daylight saving), as an ISO string; null when it is neither.
 */
export function parseBusinessTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?$/.exec(value.trim());
  if (compact) {
    const [, y, mo, d, h = '00', mi = '00', s = '00'] = compact;
    const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}+07:00`);
    return Number.isNaN(t) ? null : new Date(t).toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const t = Date.parse(/T\d{2}:\d{2}/.test(value) ? value : `${value.slice(0, 10)}T00:00:00+07:00`);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export function businessFacts(detail: Record<string, unknown>): BusinessFacts {
  const rawStatus = firstOf(detail, STATUS_KEYS);
  const status = typeof rawStatus === 'string' || typeof rawStatus === 'number' ? String(rawStatus).normalize('NFC').slice(0, 64) : null;
  const rawOnTime = firstOf(detail, ON_TIME_KEYS);
  const dueAt = parseBusinessTime(firstOf(detail, DUE_KEYS));
  const finishedAt = parseBusinessTime(firstOf(detail, FINISHED_KEYS));
  let onTime: boolean | null = typeof rawOnTime === 'boolean' ? rawOnTime : null;
  if (onTime === null && dueAt && finishedAt) onTime = Date.parse(finishedAt) <= Date.parse(dueAt);
  return { status, dueAt, finishedAt, onTime };
}

/** edXML status codes (QCVN 102:2016 status packet; 13/15/16 as interpreted in DESIGN §7). */
export const EDOC_STATUS_LABELS: Record<string, { vi: string; en: string }> = {
  '01': { vi: 'Đã đến, chờ tiếp nhận', en: 'Arrived, waiting' },
  '02': { vi: 'Từ chối tiếp nhận', en: 'Refused' },
  '03': { vi: 'Đã tiếp nhận', en: 'Received' },
  '04': { vi: 'Đã phân công', en: 'Assigned' },
  '05': { vi: 'Đang xử lý', en: 'Processing' },
  '06': { vi: 'Hoàn thành', en: 'Completed' },
  '13': { vi: 'Đề nghị thu hồi', en: 'Revoke requested' },
  '15': { vi: 'Đồng ý thu hồi/cập nhật', en: 'Revoke/update accepted' },
  '16': { vi: 'Từ chối thu hồi/cập nhật', en: 'Revoke/update refused' },
};

/** DVCQG TrangThaiHoSo (DESIGN §7). */
export const DOSSIER_STATUS_LABELS: Record<string, { vi: string; en: string }> = {
  '1': { vi: 'Mới đăng ký', en: 'Newly registered' },
  '2': { vi: 'Đã tiếp nhận', en: 'Accepted' },
  '3': { vi: 'Không được tiếp nhận', en: 'Not accepted' },
  '4': { vi: 'Đang xử lý', en: 'Processing' },
  '5': { vi: 'Yêu cầu bổ sung', en: 'Supplement requested' },
  '6': { vi: 'Yêu cầu thực hiện nghĩa vụ tài chính', en: 'Fee payment requested' },
  '7': { vi: 'Công dân rút hồ sơ', en: 'Withdrawn by citizen' },
  '8': { vi: 'Dừng xử lý', en: 'Processing stopped' },
  '9': { vi: 'Đã xử lý xong', en: 'Processed' },
  '10': { vi: 'Đã trả kết quả', en: 'Result returned' },
};

/** Transport statuses, used when a thread has no business status yet. */
export const TRANSPORT_STATUS_LABELS: Record<string, { vi: string; en: string }> = {
  accepted: { vi: 'Đã nhận vào trục', en: 'Accepted by the bus' },
  delivered: { vi: 'Đã chuyển đến', en: 'Delivered' },
  failed: { vi: 'Lỗi chuyển (đang thử lại)', en: 'Delivery failed (retrying)' },
  dead_lettered: { vi: 'Chuyển thất bại (hàng đợi lỗi)', en: 'Dead-lettered' },
};

/**
 * The bus's dossier status names (dossier.* schemas) and their TrangThaiHoSo codes (DESIGN §7;
 * the same table the one-stop-shop connector maps with), so a breakdown counts `returned` and
 * `10` as one status whichever form a connector reports.
 */
const DOSSIER_STATUS_CODES: Record<string, string> = {
  registered: '1',
  accepted: '2',
  not_accepted: '3',
  processing: '4',
  supplement_requested: '5',
  payment_requested: '6',
  withdrawn: '7',
  stopped: '8',
  processed: '9',
  returned: '10',
};

/** Normalises a status code for its family: edoc codes are two digits, dossier codes plain integers. */
export function normaliseStatusCode(family: string, code: string): string {
  if (family === 'dossier' && DOSSIER_STATUS_CODES[code]) return DOSSIER_STATUS_CODES[code];
  if (!/^\d{1,2}$/.test(code)) return code;
  return family === 'edoc' ? code.padStart(2, '0') : String(Number(code));
}

/**
 * Every stored form of a business status that `normaliseStatusCode` reads as the same code as
 * `code` in this family: connectors report `6` or `06` for an edXML status, `2`, `02` or the
 * name `accepted` for a dossier's TrangThaiHoSo. A search by business status compares the stored
 * text with these, so it finds a status in whichever form it was reported, as the KPI page counts it.
 */
export function businessStatusForms(family: string, code: string): string[] {
  const wanted = normaliseStatusCode(family, code);
  if (!/^\d{1,2}$/.test(wanted)) return [wanted];
  const n = String(Number(wanted));
  const forms = new Set([n, n.padStart(2, '0')]);
  if (family === 'dossier') for (const [name, c] of Object.entries(DOSSIER_STATUS_CODES)) if (c === n) forms.add(name);
  return [...forms];
}

/**
 * Whether `code` is a business status the console knows, in any form a connector reports it: an
 * edXML StatusCode (`6`, `06`), a TrangThaiHoSo (`10`) or a dossier status name (`returned`).
 */
export function isKnownBusinessStatus(code: string): boolean {
  return normaliseStatusCode('edoc', code) in EDOC_STATUS_LABELS || normaliseStatusCode('dossier', code) in DOSSIER_STATUS_LABELS;
}

/** The business statuses a filter takes, in words, for a refusal to name them. */
export function knownBusinessStatusesText(): string {
  return `an edXML status code (${Object.keys(EDOC_STATUS_LABELS).sort().join(', ')}), a TrangThaiHoSo code (${Object.keys(DOSSIER_STATUS_LABELS).join(', ')}) or a dossier status name (${Object.keys(DOSSIER_STATUS_CODES).join(', ')})`;
}
