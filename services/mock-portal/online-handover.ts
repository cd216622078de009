// What the mock portal hands the province for a dossier filed online: its own record (the
// portal's field names and codes) and the `dossier.submitted` payload built from it by the
// portal's own code. It deliberately shares nothing with the one-stop-shop connector's mapping
// (connectors/one-stop-shop/portal-mapping.ts): the connector's mapping is tested against this
// hand-over (test/dossier-mapping.test.ts), so a mapping error in either shows as a mismatch
// instead of both sides agreeing by construction.

/** A document the citizen attached, as the portal records it. */
export interface OnlineDocument {
  TepDinhKemId: string;
  TenTepDinhKem: string;
  MaThanhPhanHoSo?: string;
  DuongDanTaiTepTin?: string;
}

/** A fee of the procedure, as the portal records it (LoaiPhiLePhi 1 fee, 2 charge). */
export interface OnlineFee {
  MaPhiLePhi?: string;
  TenPhiLePhi: string;
  Gia: number;
  LoaiPhiLePhi: string;
  HinhThucThu?: string;
}

/** The portal's record of a dossier filed online (the DongBoHoSoMC field set). */
export interface OnlineDossierRecord {
  MaHoSo: string;
  MaTTHC: string;
  TenTTHC?: string;
  MaLinhVuc: string;
  ChuHoSo: string;
  /** 1 citizen, 2 organisation. */
  LoaiDoiTuong: string;
  MaDoiTuong?: string;
  Email?: string;
  SoDienThoai?: string;
  TrichYeuHoSo?: string;
  /** yyyyMMddHHmmss, Asia/Ho_Chi_Minh. */
  NgayTiepNhan: string;
  NgayHenTra: string;
  TrangThaiHoSo: string;
  TaiLieuNop: OnlineDocument[];
  DanhSachLePhi: OnlineFee[];
}

// The portal's code tables, as its integration documents list them.
const APPLICANT_KINDS: Record<string, 'citizen' | 'organization'> = { '1': 'citizen', '2': 'organization' };
const FEE_KINDS: Record<string, 'fee' | 'charge'> = { '1': 'fee', '2': 'charge' };
const PAYMENT_METHODS: Record<string, 'cash' | 'transfer' | 'online'> = { '1': 'cash', '2': 'transfer', '3': 'online' };

/** yyyyMMddHHmmss wall-clock time in Viet Nam (UTC+07:00, no daylight saving) → RFC 3339. */
function isoFromPortal(value: string): string {
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value) ?? [];
  if (!y) throw new Error(`the portal recorded a malformed date "${value}"`);
  return `${y}-${mo}-${d}T${h}:${mi}:${s}+07:00`;
}

/** Keeps a field only when the portal recorded something in it (it stores "" for "not set"). */
function recorded(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function withoutUnset<T extends Record<string, unknown>>(obj: T): T {
  for (const key of Object.keys(obj)) if (obj[key] === undefined) delete obj[key];
  return obj;
}

/** The dossier.submitted payload (schemas/messages/dossier.submitted.schema.json) for a record. */
export function onlineHandover(record: OnlineDossierRecord): Record<string, unknown> {
  const kind = APPLICANT_KINDS[record.LoaiDoiTuong];
  if (!kind) throw new Error(`the portal recorded an unknown LoaiDoiTuong "${record.LoaiDoiTuong}"`);
  return withoutUnset({
    dossierCode: record.MaHoSo,
    procedureCode: record.MaTTHC,
    procedureName: recorded(record.TenTTHC),
    sectorCode: record.MaLinhVuc,
    applicant: withoutUnset({
      name: record.ChuHoSo,
      kind,
      idNumber: recorded(record.MaDoiTuong),
      email: recorded(record.Email),
      phone: recorded(record.SoDienThoai),
    }),
    summary: recorded(record.TrichYeuHoSo),
    submittedAt: isoFromPortal(record.NgayTiepNhan),
    dueAt: record.NgayHenTra ? isoFromPortal(record.NgayHenTra) : undefined,
    // An online filing is always newly registered when it is handed over (TrangThaiHoSo 1).
    status: 'registered',
    documents: record.TaiLieuNop.length
      ? record.TaiLieuNop.map((d) => withoutUnset({ id: d.TepDinhKemId, name: d.TenTepDinhKem, componentCode: recorded(d.MaThanhPhanHoSo), url: recorded(d.DuongDanTaiTepTin) }))
      : undefined,
    fees: record.DanhSachLePhi.length
      ? record.DanhSachLePhi.map((f) => {
          const feeKind = FEE_KINDS[f.LoaiPhiLePhi];
          if (!feeKind) throw new Error(`the portal recorded an unknown LoaiPhiLePhi "${f.LoaiPhiLePhi}"`);
          return withoutUnset({ code: recorded(f.MaPhiLePhi), name: f.TenPhiLePhi, amount: f.Gia, kind: feeKind, paymentMethod: f.HinhThucThu ? PAYMENT_METHODS[f.HinhThucThu] : undefined });
        })
      : undefined,
  });
}
