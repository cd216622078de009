// The explicit mapping between the bus's dossier messages (schemas/messages/dossier.*) and the
// National Public Service Portal's (DVCQG) integration fields: Vietnamese field names
// (MaHoSo, MaTTHC, TrangThaiHoSo, ...), numeric codes sent as strings, and dates as
// yyyyMMddHHmmss wall-clock time in Asia/Ho_Chi_Minh. Pure functions, no I/O, so every rule
// here is unit-tested (test/dossier-mapping.test.ts) and reviewable in one place.

export const DOSSIER_STATUSES = [
  'registered',
  'accepted',
  'not_accepted',
  'processing',
  'supplement_requested',
  'payment_requested',
  'withdrawn',
  'stopped',
  'processed',
  'returned',
] as const;
export type DossierStatus = (typeof DOSSIER_STATUSES)[number];

/** TrangThaiHoSo codes 1–10 (DESIGN §7), in the order of DOSSIER_STATUSES. */
const STATUS_TO_PORTAL: Record<DossierStatus, string> = {
  registered: '1', // Mới đăng ký
  accepted: '2', // Đã tiếp nhận
  not_accepted: '3', // Không được tiếp nhận
  processing: '4', // Đang xử lý
  supplement_requested: '5', // Yêu cầu bổ sung
  payment_requested: '6', // Yêu cầu thực hiện nghĩa vụ tài chính
  withdrawn: '7', // Công dân yêu cầu rút hồ sơ
  stopped: '8', // Dừng xử lý
  processed: '9', // Đã xử lý xong
  returned: '10', // Đã trả kết quả
};
const STATUS_FROM_PORTAL = new Map(Object.entries(STATUS_TO_PORTAL).map(([name, code]) => [code, name as DossierStatus]));

/**
 * The lifecycle as the connector relies on it (TrangThaiHoSo codes, from → to): the bus's table
 * (x-lgsp-lifecycle in schemas/messages/dossier.progress.schema.json) and the portal's agree,
 * which test/dossier-mapping.test.ts checks. The connector needs it to tell a step that must wait
 * for an earlier update from one that contradicts the dossier's course.
 */
export const PORTAL_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  '1': ['2', '3', '5', '7'],
  '2': ['4', '5', '6', '7', '8'],
  '3': [],
  '4': ['5', '6', '7', '8', '9'],
  '5': ['2', '4', '7', '8'],
  '6': ['4', '7', '8', '9'],
  '7': [],
  '8': [],
  '9': ['10'],
  '10': [],
};

/** Whether a dossier at TrangThaiHoSo `from` can still come to `to` (one or more steps of the lifecycle). */
export function canReachStatus(from: string, to: string): boolean {
  const seen = new Set<string>();
  const next = [...(PORTAL_TRANSITIONS[from] ?? [])];
  while (next.length > 0) {
    const s = next.pop()!;
    if (s === to) return true;
    if (seen.has(s)) continue;
    seen.add(s);
    next.push(...(PORTAL_TRANSITIONS[s] ?? []));
  }
  return false;
}

/**
 * Statuses a dossier can come back to (on a cycle of the lifecycle: 2, 4, 5, 6, e.g. processing
 * → supplement_requested → processing). A step to one of them may find the portal already there
 * from an earlier pass, where the portal acknowledges it without recording it.
 */
export const REENTERABLE_STATUSES: ReadonlySet<string> = new Set(Object.keys(PORTAL_TRANSITIONS).filter((s) => canReachStatus(s, s)));

export class MappingError extends Error {
  override name = 'MappingError';
}

export function statusToPortal(status: DossierStatus): string {
  const code = STATUS_TO_PORTAL[status];
  if (!code) throw new MappingError(`unknown dossier status "${status}"`);
  return code;
}

export function statusFromPortal(code: string | number): DossierStatus {
  const status = STATUS_FROM_PORTAL.get(String(code).trim());
  if (!status) throw new MappingError(`unknown TrangThaiHoSo "${code}"`);
  return status;
}

/**
 * A portal status as failure reasons name it: the portal's code, with the bus's name for it
 * ("TrangThaiHoSo 4 (processing)"), so an operator reading a dead letter need not know the codes.
 */
export function portalStatusText(code: string | number | undefined): string {
  if (code === undefined) return 'TrangThaiHoSo ?';
  const name = STATUS_FROM_PORTAL.get(String(code).trim());
  return name ? `TrangThaiHoSo ${code} (${name})` : `TrangThaiHoSo ${code}`;
}

// Viet Nam has kept UTC+07:00 without daylight saving since 1975, so Asia/Ho_Chi_Minh is a
// fixed offset for every date a dossier can carry; no tz database lookup is needed.
const VN_OFFSET_MS = 7 * 3600 * 1000;
const PORTAL_DATE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** RFC 3339 instant (any offset) → yyyyMMddHHmmss in Asia/Ho_Chi_Minh. */
export function toPortalDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new MappingError(`not a date-time: "${iso}"`);
  const d = new Date(ms + VN_OFFSET_MS);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** yyyyMMddHHmmss in Asia/Ho_Chi_Minh → RFC 3339 with the +07:00 offset; rejects impossible dates. */
export function fromPortalDate(value: string): string {
  const m = PORTAL_DATE.exec(value);
  if (!m) throw new MappingError(`not a yyyyMMddHHmmss date: "${value}"`);
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(utc);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new MappingError(`impossible date: "${value}"`);
  }
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+07:00`;
}

/** Optional portal date: the portal sends "" for "not set". */
function optionalFromPortalDate(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? fromPortalDate(value) : undefined;
}

const APPLICANT_KIND = { citizen: '1', organization: '2' } as const;
const FEE_KIND = { fee: '1', charge: '2' } as const;
const PAYMENT_METHOD = { cash: '1', transfer: '2', online: '3' } as const;

function invert<K extends string, V extends string>(table: Record<K, V>): Map<string, K> {
  return new Map(Object.entries(table).map(([k, v]) => [v as string, k as K]));
}
const APPLICANT_KIND_FROM = invert(APPLICANT_KIND);
const FEE_KIND_FROM = invert(FEE_KIND);
const PAYMENT_METHOD_FROM = invert(PAYMENT_METHOD);

// ---- bus message shapes (schemas/messages/dossier.*.schema.json) ----

export interface Applicant {
  name: string;
  kind: 'citizen' | 'organization';
  idNumber?: string;
  email?: string;
  phone?: string;
}

export interface DossierDocument {
  id: string;
  name: string;
  componentCode?: string;
  url?: string;
}

export interface DossierFee {
  code?: string;
  name: string;
  amount: number;
  kind: 'fee' | 'charge';
  paymentMethod?: 'cash' | 'transfer' | 'online';
}

export interface DossierSync {
  dossierCode: string;
  procedureCode: string;
  procedureName?: string;
  sectorCode: string;
  applicant: Applicant;
  summary?: string;
  receivedAt: string;
  dueAt: string;
  status: DossierStatus;
  returnedAt?: string;
  handlingUnit?: string;
  note?: string;
  documents?: DossierDocument[];
  fees?: DossierFee[];
}

export interface DossierProgress {
  dossierCode: string;
  previousStatus: DossierStatus;
  status: DossierStatus;
  handledAt: string;
  handler?: { name: string; position?: string; department?: string };
  note?: string;
  stepStartedAt?: string;
  stepDueAt?: string;
  returnedAt?: string;
}

export interface DossierSubmitted {
  dossierCode: string;
  procedureCode: string;
  procedureName?: string;
  sectorCode: string;
  applicant: Applicant;
  summary?: string;
  submittedAt: string;
  dueAt?: string;
  status: 'registered';
  documents?: DossierDocument[];
  fees?: DossierFee[];
}

export interface LookupReply {
  dossierCode: string;
  found: boolean;
  dossier?: {
    procedureCode: string;
    procedureName?: string;
    sectorCode?: string;
    applicantName?: string;
    applicantKind?: 'citizen' | 'organization';
    summary?: string;
    receivedAt?: string;
    dueAt?: string;
    returnedAt?: string;
    status: DossierStatus;
    handlingUnit?: string;
  };
  history?: { status: DossierStatus; handledAt?: string; note?: string }[];
}

// ---- portal shapes (DongBoHoSoMC, CapNhatTienDoHoSoMC, TraCuuHoSo) ----

export interface PortalDocument {
  TepDinhKemId: string;
  TenTepDinhKem: string;
  MaThanhPhanHoSo?: string;
  DuongDanTaiTepTin?: string;
}

export interface PortalFee {
  MaPhiLePhi?: string;
  TenPhiLePhi: string;
  Gia: number;
  LoaiPhiLePhi: string;
  HinhThucThu?: string;
}

export interface PortalDossier {
  MaHoSo: string;
  MaTTHC: string;
  TenTTHC?: string;
  MaLinhVuc: string;
  ChuHoSo: string;
  LoaiDoiTuong: string;
  MaDoiTuong?: string;
  Email?: string;
  SoDienThoai?: string;
  TrichYeuHoSo?: string;
  NgayTiepNhan: string;
  NgayHenTra: string;
  TrangThaiHoSo: string;
  NgayTra?: string;
  DonViXuLy?: string;
  GhiChu?: string;
  TaiLieuNop: PortalDocument[];
  DanhSachLePhi: PortalFee[];
}

export interface PortalProgress {
  MaHoSo: string;
  NguoiXuLy?: string;
  ChucDanh?: string;
  PhongBanXuLy?: string;
  ThoiDiemXuLy: string;
  NoiDungXuLy?: string;
  TrangThai: string;
  NgayBatDau?: string;
  NgayKetThucTheoQuyDinh?: string;
  NgayTra?: string;
}

export interface PortalHistoryEntry {
  TrangThai: string;
  ThoiDiemXuLy?: string;
  NoiDungXuLy?: string;
}

export interface PortalLookupRecord extends Partial<PortalDossier> {
  MaHoSo: string;
  MaTTHC: string;
  TrangThaiHoSo: string;
  QuaTrinhXuLy?: PortalHistoryEntry[];
}

/** Drops undefined members so the portal never sees `"Field": undefined`/null noise. */
function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function documentsToPortal(documents: DossierDocument[] = []): PortalDocument[] {
  return documents.map((d) => compact({ TepDinhKemId: d.id, TenTepDinhKem: d.name, MaThanhPhanHoSo: d.componentCode, DuongDanTaiTepTin: d.url }));
}

function feesToPortal(fees: DossierFee[] = []): PortalFee[] {
  return fees.map((f) => compact({ MaPhiLePhi: f.code, TenPhiLePhi: f.name, Gia: f.amount, LoaiPhiLePhi: FEE_KIND[f.kind], HinhThucThu: f.paymentMethod ? PAYMENT_METHOD[f.paymentMethod] : undefined }));
}

/** dossier.sync payload → one DongBoHoSoMC `data` item. */
export function toPortalDossier(d: DossierSync): PortalDossier {
  return compact({
    MaHoSo: d.dossierCode,
    MaTTHC: d.procedureCode,
    TenTTHC: d.procedureName,
    MaLinhVuc: d.sectorCode,
    ChuHoSo: d.applicant.name,
    LoaiDoiTuong: APPLICANT_KIND[d.applicant.kind],
    MaDoiTuong: d.applicant.idNumber,
    Email: d.applicant.email,
    SoDienThoai: d.applicant.phone,
    TrichYeuHoSo: d.summary,
    NgayTiepNhan: toPortalDate(d.receivedAt),
    NgayHenTra: toPortalDate(d.dueAt),
    TrangThaiHoSo: statusToPortal(d.status),
    NgayTra: d.returnedAt ? toPortalDate(d.returnedAt) : undefined,
    DonViXuLy: d.handlingUnit,
    GhiChu: d.note,
    TaiLieuNop: documentsToPortal(d.documents),
    DanhSachLePhi: feesToPortal(d.fees),
  });
}

/** dossier.progress payload → one CapNhatTienDoHoSoMC `data` item (previousStatus stays on the bus). */
export function toPortalProgress(p: DossierProgress): PortalProgress {
  return compact({
    MaHoSo: p.dossierCode,
    NguoiXuLy: p.handler?.name,
    ChucDanh: p.handler?.position,
    PhongBanXuLy: p.handler?.department,
    ThoiDiemXuLy: toPortalDate(p.handledAt),
    NoiDungXuLy: p.note,
    TrangThai: statusToPortal(p.status),
    NgayBatDau: p.stepStartedAt ? toPortalDate(p.stepStartedAt) : undefined,
    NgayKetThucTheoQuyDinh: p.stepDueAt ? toPortalDate(p.stepDueAt) : undefined,
    NgayTra: p.returnedAt ? toPortalDate(p.returnedAt) : undefined,
  });
}

const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function applicantFromPortal(r: Partial<PortalDossier>): Applicant {
  const kind = APPLICANT_KIND_FROM.get(String(r.LoaiDoiTuong ?? ''));
  if (!kind) throw new MappingError(`unknown LoaiDoiTuong "${r.LoaiDoiTuong}"`);
  if (!nonEmpty(r.ChuHoSo)) throw new MappingError('ChuHoSo is missing');
  return compact({ name: r.ChuHoSo!, kind, idNumber: nonEmpty(r.MaDoiTuong), email: nonEmpty(r.Email), phone: nonEmpty(r.SoDienThoai) });
}

function documentsFromPortal(list: PortalDocument[] | undefined): DossierDocument[] | undefined {
  if (!list?.length) return undefined;
  return list.map((d) => compact({ id: d.TepDinhKemId, name: d.TenTepDinhKem, componentCode: nonEmpty(d.MaThanhPhanHoSo), url: nonEmpty(d.DuongDanTaiTepTin) }));
}

function feesFromPortal(list: PortalFee[] | undefined): DossierFee[] | undefined {
  if (!list?.length) return undefined;
  return list.map((f) => {
    const kind = FEE_KIND_FROM.get(String(f.LoaiPhiLePhi));
    if (!kind) throw new MappingError(`unknown LoaiPhiLePhi "${f.LoaiPhiLePhi}"`);
    const paymentMethod = f.HinhThucThu ? PAYMENT_METHOD_FROM.get(String(f.HinhThucThu)) : undefined;
    return compact({ code: nonEmpty(f.MaPhiLePhi), name: f.TenPhiLePhi, amount: Number(f.Gia), kind, paymentMethod });
  });
}

/** A dossier filed online at the portal → the dossier.submitted payload for the responsible agency. */
export function fromPortalOnlineDossier(r: PortalDossier): DossierSubmitted {
  return compact({
    dossierCode: r.MaHoSo,
    procedureCode: r.MaTTHC,
    procedureName: nonEmpty(r.TenTTHC),
    sectorCode: r.MaLinhVuc,
    applicant: applicantFromPortal(r),
    summary: nonEmpty(r.TrichYeuHoSo),
    submittedAt: fromPortalDate(r.NgayTiepNhan),
    dueAt: optionalFromPortalDate(r.NgayHenTra),
    status: 'registered' as const,
    documents: documentsFromPortal(r.TaiLieuNop),
    fees: feesFromPortal(r.DanhSachLePhi),
  });
}

/** TraCuuHoSo `result` → the dossier.lookup reply. The portal answers an empty list when it has nothing. */
export function fromPortalLookup(dossierCode: string, result: PortalLookupRecord[] | undefined): LookupReply {
  const r = result?.[0];
  if (!r) return { dossierCode, found: false };
  return {
    dossierCode,
    found: true,
    dossier: compact({
      procedureCode: r.MaTTHC,
      procedureName: nonEmpty(r.TenTTHC),
      sectorCode: nonEmpty(r.MaLinhVuc),
      applicantName: nonEmpty(r.ChuHoSo),
      applicantKind: r.LoaiDoiTuong ? APPLICANT_KIND_FROM.get(String(r.LoaiDoiTuong)) : undefined,
      summary: nonEmpty(r.TrichYeuHoSo),
      receivedAt: optionalFromPortalDate(r.NgayTiepNhan),
      dueAt: optionalFromPortalDate(r.NgayHenTra),
      returnedAt: optionalFromPortalDate(r.NgayTra),
      status: statusFromPortal(r.TrangThaiHoSo),
      handlingUnit: nonEmpty(r.DonViXuLy),
    }),
    history: (r.QuaTrinhXuLy ?? []).map((h) => compact({ status: statusFromPortal(h.TrangThai), handledAt: optionalFromPortalDate(h.ThoiDiemXuLy), note: nonEmpty(h.NoiDungXuLy) })),
  };
}
