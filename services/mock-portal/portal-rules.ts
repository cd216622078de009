// What the mock portal checks before it stores anything: field formats of DongBoHoSoMC and
// CapNhatTienDoHoSoMC items, yyyyMMddHHmmss dates (Asia/Ho_Chi_Minh wall time), known
// procedure codes and the TrangThaiHoSo lifecycle. The portal is an outside system, so it keeps
// its own statement of these rules in its own terms (codes "1".."10"); the bus states the same
// lifecycle by name in schemas/messages/dossier.progress.schema.json, and a test checks that
// the two agree.
import type { PortalFieldError } from './portal-codes.js';
import type { ProcedureCatalogue } from './procedure-catalogue.js';

export const PORTAL_STATUSES = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'] as const;

/** Statuses a dossier may have when it first reaches the portal. */
export const INITIAL_STATUSES: readonly string[] = ['1', '2', '3'];

/** TrangThaiHoSo transitions the portal accepts (from → to). */
export const STATUS_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  '1': ['2', '3', '5', '7'], // mới đăng ký → tiếp nhận, không tiếp nhận, yêu cầu bổ sung, rút
  '2': ['4', '5', '6', '7', '8'], // đã tiếp nhận → xử lý, bổ sung, nghĩa vụ tài chính, rút, dừng
  '3': [],
  '4': ['5', '6', '7', '8', '9'], // đang xử lý → bổ sung, nghĩa vụ tài chính, rút, dừng, xong
  '5': ['2', '4', '7', '8'], // yêu cầu bổ sung → (đã bổ sung) tiếp nhận / xử lý, rút, dừng
  '6': ['4', '7', '8', '9'], // nghĩa vụ tài chính → xử lý, rút, dừng, xong
  '7': [],
  '8': [],
  '9': ['10'], // đã xử lý xong → đã trả kết quả
  '10': [],
};

export function isLegalTransition(from: string, to: string): boolean {
  return STATUS_TRANSITIONS[from]?.includes(to) ?? false;
}

const PORTAL_DATE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** Epoch ms of a yyyyMMddHHmmss Asia/Ho_Chi_Minh (UTC+07:00, no DST) date, or null if impossible. */
export function parsePortalDate(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = PORTAL_DATE.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  if (y < 1990 || y > 2200 || h > 23 || mi > 59 || s > 59) return null;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(utc);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null;
  return utc - 7 * 3600 * 1000;
}

export function formatPortalDate(ms: number): string {
  const d = new Date(ms + 7 * 3600 * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Agency codes: QCVN 102:2016 (000.00.00.H49) or Decision 20/2020 (H55.242) forms, ≤ 35 chars. */
export const AGENCY_CODE = /^(?=.{1,35}$)[A-Z0-9]+(\.[A-Z0-9]+)*$/;
export const DOSSIER_CODE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,49}$/;
const PHONE = /^[0-9+ .()-]{6,20}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** Collects field errors under a prefix such as `data[0]`. */
class FieldChecker {
  readonly errors: PortalFieldError[] = [];
  unknownProcedure = false;

  constructor(
    private readonly item: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  fail(field: string, message: string): void {
    this.errors.push({ field: `${this.prefix}.${field}`, message });
  }

  value(field: string): unknown {
    return this.item[field];
  }

  present(field: string): boolean {
    const v = this.item[field];
    return v !== undefined && v !== null && v !== '';
  }

  string(field: string, opts: { required?: boolean; max?: number; pattern?: RegExp; patternMessage?: string } = {}): string | undefined {
    const v = this.item[field];
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.fail(field, 'bắt buộc (required)');
      return undefined;
    }
    if (typeof v !== 'string') return this.fail(field, 'phải là chuỗi (must be a string)'), undefined;
    if (opts.max && v.length > opts.max) return this.fail(field, `tối đa ${opts.max} ký tự (at most ${opts.max} characters)`), undefined;
    if (opts.pattern && !opts.pattern.test(v)) return this.fail(field, opts.patternMessage ?? 'sai định dạng (malformed)'), undefined;
    return v;
  }

  date(field: string, required: boolean): number | undefined {
    const v = this.item[field];
    if (v === undefined || v === null || v === '') {
      if (required) this.fail(field, 'bắt buộc, định dạng yyyyMMddHHmmss (required, yyyyMMddHHmmss)');
      return undefined;
    }
    const ms = parsePortalDate(v);
    if (ms === null) return this.fail(field, 'ngày không hợp lệ, định dạng yyyyMMddHHmmss giờ Việt Nam (invalid date, yyyyMMddHHmmss in Asia/Ho_Chi_Minh)'), undefined;
    return ms;
  }

  oneOf(field: string, allowed: readonly string[], required: boolean): string | undefined {
    const v = this.item[field];
    if (v === undefined || v === null || v === '') {
      if (required) this.fail(field, `bắt buộc, một trong ${allowed.join(', ')} (required)`);
      return undefined;
    }
    if (typeof v !== 'string' || !allowed.includes(v)) return this.fail(field, `phải là một trong ${allowed.join(', ')} (must be one of them, as a string)`), undefined;
    return v;
  }

  array(field: string, max: number): Record<string, unknown>[] {
    const v = this.item[field];
    if (v === undefined || v === null || v === '') return [];
    if (!Array.isArray(v)) return this.fail(field, 'phải là mảng (must be an array)'), [];
    if (v.length > max) return this.fail(field, `tối đa ${max} phần tử (at most ${max} items)`), [];
    return v.map((x, i) => {
      if (!x || typeof x !== 'object' || Array.isArray(x)) {
        this.fail(`${field}[${i}]`, 'phải là đối tượng (must be an object)');
        return {};
      }
      return x as Record<string, unknown>;
    });
  }
}

function checkDocuments(c: FieldChecker, prefix: string): void {
  c.array('TaiLieuNop', 200).forEach((doc, i) => {
    const d = new FieldChecker(doc, `${prefix}.TaiLieuNop[${i}]`);
    d.string('TepDinhKemId', { required: true, max: 100 });
    d.string('TenTepDinhKem', { required: true, max: 500 });
    d.string('MaThanhPhanHoSo', { max: 100 });
    d.string('DuongDanTaiTepTin', { max: 2000, pattern: /^https?:\/\//, patternMessage: 'phải là URL http(s) (must be an http(s) URL)' });
    c.errors.push(...d.errors);
  });
}

function checkFees(c: FieldChecker, prefix: string): void {
  c.array('DanhSachLePhi', 50).forEach((fee, i) => {
    const f = new FieldChecker(fee, `${prefix}.DanhSachLePhi[${i}]`);
    f.string('MaPhiLePhi', { max: 100 });
    f.string('TenPhiLePhi', { required: true, max: 500 });
    const price = fee.Gia;
    const amount = typeof price === 'string' && /^\d+$/.test(price) ? Number(price) : price;
    if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 0) f.fail('Gia', 'phải là số nguyên không âm, đơn vị đồng (non-negative integer, VND)');
    f.oneOf('LoaiPhiLePhi', ['1', '2'], true);
    f.oneOf('HinhThucThu', ['1', '2', '3'], false);
    c.errors.push(...f.errors);
  });
}

function checkApplicant(c: FieldChecker): void {
  c.string('ChuHoSo', { required: true, max: 200 });
  c.oneOf('LoaiDoiTuong', ['1', '2'], true);
  c.string('MaDoiTuong', { max: 20, pattern: /^[0-9A-Z]{6,20}$/ });
  c.string('Email', { max: 200, pattern: EMAIL });
  c.string('SoDienThoai', { max: 20, pattern: PHONE });
}

export interface ItemCheck {
  errors: PortalFieldError[];
  unknownProcedure: boolean;
}

/** One DongBoHoSoMC `data` item. */
export function checkDossierItem(item: Record<string, unknown>, index: number, catalogue: ProcedureCatalogue): ItemCheck {
  const prefix = `data[${index}]`;
  const c = new FieldChecker(item, prefix);
  c.string('MaHoSo', { required: true, pattern: DOSSIER_CODE });
  const code = c.string('MaTTHC', { required: true, pattern: /^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)*$/, patternMessage: 'sai định dạng mã TTHC, ví dụ 1.001234 (malformed procedure code)' });
  c.string('TenTTHC', { max: 1000 });
  const sector = c.string('MaLinhVuc', { required: true, max: 50 });
  if (code) {
    const procedure = catalogue.find(code);
    if (!procedure) {
      c.fail('MaTTHC', 'mã thủ tục không có trong danh mục (unknown procedure code; see LayDanhSachTTHC)');
      c.unknownProcedure = true;
    } else if (sector && sector !== procedure.sector.code) {
      c.fail('MaLinhVuc', `không khớp lĩnh vực của thủ tục, phải là ${procedure.sector.code} (does not match the procedure's sector)`);
    }
  }
  checkApplicant(c);
  c.string('TrichYeuHoSo', { max: 2000 });
  const received = c.date('NgayTiepNhan', true);
  const due = c.date('NgayHenTra', true);
  const status = c.oneOf('TrangThaiHoSo', PORTAL_STATUSES, true);
  const returned = c.date('NgayTra', status === '10');
  if (received !== undefined && due !== undefined && due < received) c.fail('NgayHenTra', 'không được trước NgayTiepNhan (must not be before NgayTiepNhan)');
  if (received !== undefined && returned !== undefined && returned < received) c.fail('NgayTra', 'không được trước NgayTiepNhan (must not be before NgayTiepNhan)');
  c.string('DonViXuLy', { max: 500 });
  c.string('GhiChu', { max: 2000 });
  checkDocuments(c, prefix);
  checkFees(c, prefix);
  return { errors: c.errors, unknownProcedure: c.unknownProcedure };
}

/** One CapNhatTienDoHoSoMC `data` item. */
export function checkProgressItem(item: Record<string, unknown>, index: number): ItemCheck {
  const c = new FieldChecker(item, `data[${index}]`);
  c.string('MaHoSo', { required: true, pattern: DOSSIER_CODE });
  c.oneOf('TrangThai', PORTAL_STATUSES, true);
  c.date('ThoiDiemXuLy', true);
  c.string('NguoiXuLy', { max: 200 });
  c.string('ChucDanh', { max: 200 });
  c.string('PhongBanXuLy', { max: 500 });
  c.string('NoiDungXuLy', { max: 2000 });
  const start = c.date('NgayBatDau', false);
  const end = c.date('NgayKetThucTheoQuyDinh', false);
  c.date('NgayTra', false);
  if (start !== undefined && end !== undefined && end < start) c.fail('NgayKetThucTheoQuyDinh', 'không được trước NgayBatDau (must not be before NgayBatDau)');
  return { errors: c.errors, unknownProcedure: false };
}

/** A citizen's online filing at the portal (the portal assigns MaHoSo, dates and status). */
export function checkOnlineFiling(item: Record<string, unknown>, catalogue: ProcedureCatalogue): ItemCheck & { agency?: string } {
  const c = new FieldChecker(item, 'hoSo');
  const code = c.string('MaTTHC', { required: true, pattern: /^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)*$/ });
  const agency = c.string('MaDonVi', { pattern: AGENCY_CODE });
  let chosen: string | undefined;
  if (code) {
    const procedure = catalogue.find(code);
    if (!procedure) {
      c.fail('MaTTHC', 'mã thủ tục không có trong danh mục (unknown procedure code)');
      c.unknownProcedure = true;
    } else if (agency && !procedure.agencies.includes(agency)) {
      c.fail('MaDonVi', `đơn vị không thực hiện thủ tục này; một trong ${procedure.agencies.join(', ')} (agency does not handle this procedure)`);
    } else {
      chosen = agency ?? procedure.agencies[0];
    }
  }
  checkApplicant(c);
  c.string('TrichYeuHoSo', { max: 2000 });
  checkDocuments(c, 'hoSo');
  return { errors: c.errors, unknownProcedure: c.unknownProcedure, agency: chosen };
}
