// The explicit bus ↔ portal mapping (connectors/one-stop-shop/portal-mapping.ts), the dossier
// schemas' examples, and the agreement between the lifecycle the gateway enforces (schema
// table) and the one the mock portal enforces (its own codes). Unit tests: no Kafka.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { dossierLifecycle, enforceDossierRules } from '../services/dossier-exchange/dossier-rules.js';
import { onlineHandover, type OnlineDossierRecord } from '../services/mock-portal/online-handover.js';
import { INITIAL_STATUSES, STATUS_TRANSITIONS } from '../services/mock-portal/portal-rules.js';
import { preferredWaitSeconds } from '../services/gateway/routes/requests.js';
import {
  DOSSIER_STATUSES,
  MappingError,
  PORTAL_TRANSITIONS,
  REENTERABLE_STATUSES,
  fromPortalDate,
  fromPortalLookup,
  fromPortalOnlineDossier,
  statusFromPortal,
  portalStatusText,
  statusToPortal,
  toPortalDate,
  toPortalDossier,
  type PortalDossier,
  toPortalProgress,
  type DossierSync,
} from '../connectors/one-stop-shop/portal-mapping.js';
import { portalRefusal, retryAfterMs } from '../connectors/one-stop-shop/portal-client.js';

const catalogue = new SchemaCatalogue().loadConnectorManifests();
const schema = (name: string) => JSON.parse(readFileSync(join(PROJECT_ROOT, 'schemas', 'messages', name), 'utf8'));

t.test('status names map to TrangThaiHoSo 1–10 and back', async (t) => {
  t.same(
    DOSSIER_STATUSES.map((s) => statusToPortal(s)),
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
  );
  for (const s of DOSSIER_STATUSES) t.equal(statusFromPortal(statusToPortal(s)), s);
  t.equal(statusFromPortal(10), 'returned', 'numbers accepted');
  t.throws(() => statusFromPortal('11'), MappingError);
  t.throws(() => statusToPortal('done' as never), MappingError);
  t.same(schema('dossier.sync.schema.json').$defs.status.enum, [...DOSSIER_STATUSES], 'the schema lists the same statuses in code order');
});

t.test('failure reasons name a portal status by its code and the bus\'s name for it', async (t) => {
  t.equal(portalStatusText('4'), 'TrangThaiHoSo 4 (processing)');
  t.equal(portalStatusText(10), 'TrangThaiHoSo 10 (returned)', 'numbers too');
  t.equal(portalStatusText('42'), 'TrangThaiHoSo 42', 'a code the bus does not know is given as it is');
  t.equal(portalStatusText(undefined), 'TrangThaiHoSo ?', 'and a missing one is said to be unknown');
});

t.test('dates: any offset in, yyyyMMddHHmmss in Asia/Ho_Chi_Minh out', async (t) => {
  t.equal(toPortalDate('2026-01-15T08:30:00+07:00'), '20260115083000');
  t.equal(toPortalDate('2026-01-15T01:30:00Z'), '20260115083000', 'UTC converted');
  t.equal(toPortalDate('2026-01-15T20:00:00Z'), '20260116030000', 'crosses midnight into the next Vietnamese day');
  t.equal(toPortalDate('2025-12-31T23:59:59-05:00'), '20260101115959', 'year boundary');
  t.equal(toPortalDate('2024-02-28T17:00:00Z'), '20240229000000', 'leap day');
  t.equal(fromPortalDate('20260115083000'), '2026-01-15T08:30:00+07:00');
  t.equal(Date.parse(fromPortalDate(toPortalDate('2026-07-04T12:34:56.000Z'))), Date.parse('2026-07-04T12:34:56.000Z'), 'round trip');
  for (const bad of ['20260230083000', '20261315083000', '20260115246000', '2026011508300', '2026-01-15']) t.throws(() => fromPortalDate(bad), MappingError, bad);
  t.throws(() => toPortalDate('yesterday'), MappingError);
});

const sync: DossierSync = {
  dossierCode: '000.00.15.H49-260115-0001',
  procedureCode: '1.001234',
  procedureName: 'Cấp Phiếu lý lịch tư pháp',
  sectorCode: 'LLTP',
  applicant: { name: 'Công ty TNHH Hòa Phước', kind: 'organization', idNumber: '4900123456', email: 'lienhe@hoaphuoc.example.vn', phone: '0236 3822 111' },
  summary: 'Đề nghị cấp phiếu',
  receivedAt: '2026-01-15T08:30:00+07:00',
  dueAt: '2026-01-29T10:00:00Z',
  status: 'returned',
  returnedAt: '2026-01-28T09:00:00+07:00',
  handlingUnit: 'Sở Tư pháp',
  note: 'Ghi chú',
  documents: [{ id: 'TL-1', name: 'Tờ khai', componentCode: 'TP-1', url: 'https://motcua.example.vn/tl/1' }],
  fees: [
    { code: 'P1', name: 'Phí', amount: 200000, kind: 'fee', paymentMethod: 'cash' },
    { name: 'Lệ phí', amount: 50000, kind: 'charge', paymentMethod: 'transfer' },
  ],
};

t.test('dossier.sync → DongBoHoSoMC item, every field', async (t) => {
  t.same(toPortalDossier(sync), {
    MaHoSo: '000.00.15.H49-260115-0001',
    MaTTHC: '1.001234',
    TenTTHC: 'Cấp Phiếu lý lịch tư pháp',
    MaLinhVuc: 'LLTP',
    ChuHoSo: 'Công ty TNHH Hòa Phước',
    LoaiDoiTuong: '2',
    MaDoiTuong: '4900123456',
    Email: 'lienhe@hoaphuoc.example.vn',
    SoDienThoai: '0236 3822 111',
    TrichYeuHoSo: 'Đề nghị cấp phiếu',
    NgayTiepNhan: '20260115083000',
    NgayHenTra: '20260129170000',
    TrangThaiHoSo: '10',
    NgayTra: '20260128090000',
    DonViXuLy: 'Sở Tư pháp',
    GhiChu: 'Ghi chú',
    TaiLieuNop: [{ TepDinhKemId: 'TL-1', TenTepDinhKem: 'Tờ khai', MaThanhPhanHoSo: 'TP-1', DuongDanTaiTepTin: 'https://motcua.example.vn/tl/1' }],
    DanhSachLePhi: [
      { MaPhiLePhi: 'P1', TenPhiLePhi: 'Phí', Gia: 200000, LoaiPhiLePhi: '1', HinhThucThu: '1' },
      { TenPhiLePhi: 'Lệ phí', Gia: 50000, LoaiPhiLePhi: '2', HinhThucThu: '2' },
    ],
  });
  const minimal = toPortalDossier({ ...sync, status: 'registered', returnedAt: undefined, documents: undefined, fees: undefined, applicant: { name: 'An', kind: 'citizen' } });
  t.equal(minimal.LoaiDoiTuong, '1');
  t.same([minimal.TaiLieuNop, minimal.DanhSachLePhi], [[], []], 'lists always present');
  t.notOk('NgayTra' in minimal || 'Email' in minimal, 'absent optional fields are left out, not sent as null');
});

t.test('dossier.progress → CapNhatTienDoHoSoMC item', async (t) => {
  t.same(
    toPortalProgress({
      dossierCode: 'X-1',
      previousStatus: 'accepted',
      status: 'processing',
      handledAt: '2026-01-16T02:15:00Z',
      handler: { name: 'Trần Thị Bình', position: 'Chuyên viên', department: 'Phòng HCTP' },
      note: 'Chuyển xử lý',
      stepStartedAt: '2026-01-16T09:15:00+07:00',
      stepDueAt: '2026-01-27T17:00:00+07:00',
    }),
    { MaHoSo: 'X-1', NguoiXuLy: 'Trần Thị Bình', ChucDanh: 'Chuyên viên', PhongBanXuLy: 'Phòng HCTP', ThoiDiemXuLy: '20260116091500', NoiDungXuLy: 'Chuyển xử lý', TrangThai: '4', NgayBatDau: '20260116091500', NgayKetThucTheoQuyDinh: '20260127170000' },
  );
});

t.test('the connector maps what the mock portal really hands over (its own code, not the connector\'s)', async (t) => {
  const full: OnlineDossierRecord = {
    MaHoSo: 'G22.99-260115-0001',
    MaTTHC: '1.001234',
    TenTTHC: 'Cấp phiếu lý lịch tư pháp',
    MaLinhVuc: 'LLTP',
    ChuHoSo: 'Nguyễn Văn An',
    LoaiDoiTuong: '1',
    MaDoiTuong: '001099012345',
    Email: 'an@example.vn',
    SoDienThoai: '0912345678',
    TrichYeuHoSo: 'Đề nghị cấp phiếu số 1',
    NgayTiepNhan: '20260115083000',
    NgayHenTra: '20260129170000',
    TrangThaiHoSo: '1',
    TaiLieuNop: [{ TepDinhKemId: 'f1', TenTepDinhKem: 'Tờ khai.pdf', MaThanhPhanHoSo: 'TP1', DuongDanTaiTepTin: 'https://dvc.example.vn/f1' }, { TepDinhKemId: 'f2', TenTepDinhKem: 'CCCD.pdf' }],
    DanhSachLePhi: [{ MaPhiLePhi: 'LP1', TenPhiLePhi: 'Lệ phí', Gia: 200000, LoaiPhiLePhi: '1', HinhThucThu: '3' }, { TenPhiLePhi: 'Phí', Gia: 5000, LoaiPhiLePhi: '2' }],
  };
  const minimal: OnlineDossierRecord = { ...full, LoaiDoiTuong: '2', TenTTHC: '', MaDoiTuong: undefined, Email: '', SoDienThoai: undefined, TrichYeuHoSo: undefined, TaiLieuNop: [], DanhSachLePhi: [] };
  const validate = catalogue.payloadValidator('dossier.submitted')!;
  for (const [name, record] of [['full', full], ['minimal', minimal]] as const) {
    const handedOver = onlineHandover(record);
    t.ok(validate(handedOver), `${name}: the portal hands over a valid dossier.submitted ${JSON.stringify(validate.errors)}`);
    t.same(fromPortalOnlineDossier(record as PortalDossier), handedOver, `${name}: the connector's mapping of the portal record equals the portal's hand-over`);
  }
});

t.test('portal records → bus payloads', async (t) => {
  const record = toPortalDossier({ ...sync, status: 'registered', returnedAt: undefined });
  const submitted = fromPortalOnlineDossier(record);
  t.match(submitted, {
    dossierCode: sync.dossierCode,
    procedureCode: '1.001234',
    sectorCode: 'LLTP',
    applicant: sync.applicant,
    submittedAt: '2026-01-15T08:30:00+07:00',
    dueAt: '2026-01-29T17:00:00+07:00',
    status: 'registered',
    documents: sync.documents,
    fees: sync.fees,
  });
  t.throws(() => fromPortalOnlineDossier({ ...record, LoaiDoiTuong: '9' }), MappingError);
  const validate = catalogue.payloadValidator('dossier.submitted')!;
  t.ok(validate(submitted), `valid dossier.submitted ${JSON.stringify(validate.errors)}`);

  t.same(fromPortalLookup('Y-1', []), { dossierCode: 'Y-1', found: false });
  const found = fromPortalLookup('Y-1', [{ ...record, MaHoSo: 'Y-1', TrangThaiHoSo: '4', NgayTra: '', QuaTrinhXuLy: [{ TrangThai: '2', ThoiDiemXuLy: '20260115083000', NoiDungXuLy: '' }, { TrangThai: '4', ThoiDiemXuLy: '20260116091500', NoiDungXuLy: 'Xử lý' }] }]);
  t.match(found, { found: true, dossier: { status: 'processing', applicantKind: 'organization', receivedAt: '2026-01-15T08:30:00+07:00' } });
  t.notOk('returnedAt' in found.dossier!, 'an empty NgayTra is "not returned"');
  t.same(found.history, [{ status: 'accepted', handledAt: '2026-01-15T08:30:00+07:00' }, { status: 'processing', handledAt: '2026-01-16T09:15:00+07:00', note: 'Xử lý' }]);
  const validateReply = catalogue.validator('https://lgsp.example.gov.vn/schemas/messages/dossier.lookup.reply.schema.json');
  t.ok(validateReply(found), `valid lookup reply ${JSON.stringify(validateReply.errors)}`);
});

t.test('the lifecycle the gateway enforces is the one the portal enforces', async (t) => {
  const lifecycle = dossierLifecycle(catalogue);
  t.same(lifecycle.initial.map((s) => statusToPortal(s as never)).sort(), [...INITIAL_STATUSES].sort(), 'initial statuses');
  const disagreements: string[] = [];
  for (const from of DOSSIER_STATUSES) {
    for (const to of DOSSIER_STATUSES) {
      const gateway = lifecycle.transitions[from].includes(to);
      const portal = STATUS_TRANSITIONS[statusToPortal(from)].includes(statusToPortal(to));
      const connector = PORTAL_TRANSITIONS[statusToPortal(from)].includes(statusToPortal(to));
      if (gateway !== portal) disagreements.push(`${from} → ${to}: gateway ${gateway}, portal ${portal}`);
      if (gateway !== connector) disagreements.push(`${from} → ${to}: gateway ${gateway}, connector ${connector}`);
    }
  }
  t.same(disagreements, [], 'all 100 pairs agree, the connector\'s table too');
  t.same([...REENTERABLE_STATUSES].sort(), ['2', '4', '5', '6'], 'the statuses a dossier can come back to: accepted, processing, supplement_requested, payment_requested');
  const progress = (previousStatus: string, status: string) => ({ dossierCode: 'Z', previousStatus, status, handledAt: '2026-01-16T09:00:00+07:00' });
  t.doesNotThrow(() => enforceDossierRules('dossier.progress', progress('processing', 'processed'), catalogue), 'legal step passes');
  t.doesNotThrow(() => enforceDossierRules('dossier.progress', { ...progress('processed', 'returned'), returnedAt: '2026-01-17T09:00:00+07:00' }, catalogue));
  t.throws(() => enforceDossierRules('dossier.progress', progress('processed', 'returned'), catalogue), { code: 'DOSSIER_RULES_VIOLATED' }, 'returned needs returnedAt');
  t.throws(() => enforceDossierRules('dossier.progress', progress('processing', 'processing'), catalogue), { code: 'DOSSIER_RULES_VIOLATED' }, 'no self-transition');
  t.doesNotThrow(() => enforceDossierRules('notice.send', { whatever: 1 }, catalogue), 'other types untouched');
});

t.test('every dossier schema example is valid, and shared definitions agree across the files', async (t) => {
  for (const type of ['dossier.sync', 'dossier.progress', 'dossier.lookup', 'dossier.submitted']) {
    const info = catalogue.messageTypes.get(type);
    t.ok(info, `${type} is declared by the one-stop-shop manifest`);
    t.equal(info!.connector, 'one-stop-shop');
    const examples = info!.schema.examples as Record<string, unknown>[];
    t.ok(examples?.length >= 1, `${type} has examples`);
    const validate = catalogue.payloadValidator(type)!;
    for (const example of examples) {
      t.ok(validate(example), `${type} example valid ${JSON.stringify(validate.errors)}`);
      t.doesNotThrow(() => enforceDossierRules(type, example, catalogue), `${type} example obeys the dossier rules`);
    }
  }
  const reply = schema('dossier.lookup.reply.schema.json');
  const validateReply = catalogue.validator(reply.$id);
  for (const example of reply.examples) t.ok(validateReply(example), 'reply example valid');
  const sync = schema('dossier.sync.schema.json');
  const progress = schema('dossier.progress.schema.json');
  const submitted = schema('dossier.submitted.schema.json');
  t.same(progress.$defs.status.enum, sync.$defs.status.enum);
  t.same(reply.$defs.status.enum, sync.$defs.status.enum);
  t.same(progress.$defs.dossierCode.pattern, sync.$defs.dossierCode.pattern);
  // Descriptions may differ; the constraints may not.
  const rules = (s: unknown): unknown => JSON.parse(JSON.stringify(s, (k, v) => (k === 'description' ? undefined : v)));
  t.same(rules(submitted.properties.applicant.properties), rules(sync.$defs.applicant.properties));
  t.same(rules(submitted.properties.fees.items.properties), rules(sync.$defs.fee.properties));
  t.same(rules(submitted.properties.documents.items.properties), rules(sync.$defs.document.properties));
});

t.test('portal refusals and Retry-After are classified for the runtime', async (t) => {
  for (const code of ['3', '4', '7', '8']) t.equal((portalRefusal('x', { error_code: code }) as unknown as { retryable: boolean }).retryable, false, `${code} permanent`);
  for (const code of ['-1', '5', '6', '9', '10', '99']) t.equal((portalRefusal('x', { error_code: code }) as unknown as { retryable: boolean }).retryable, true, `${code} retryable`);
  t.match(portalRefusal('DongBoHoSoMC X', { error_code: '3', message: 'Dữ liệu không hợp lệ', errors: [{ field: 'data[0].NgayHenTra', message: '...' }] }).message, /error_code 3 .*data\[0\]\.NgayHenTra/);
  t.equal(retryAfterMs('2'), 2000);
  t.equal(retryAfterMs(null), undefined);
  const inOneMinute = new Date(Date.now() + 60_000).toUTCString();
  t.ok(Math.abs(retryAfterMs(inOneMinute)! - 60_000) < 2000, 'HTTP-date form');
  t.equal(preferredWaitSeconds(undefined), 10);
  t.equal(preferredWaitSeconds('respond-async, wait=3'), 3);
  t.equal(preferredWaitSeconds('wait=3600'), 30, 'bounded');
  t.equal(preferredWaitSeconds('wait=abc'), 10);
  // Whole seconds, as the guide says: a fraction or a unit is malformed (ignored: the default),
  // not read as its leading digits; a long run of digits is a long wait, brought within 30.
  t.equal(preferredWaitSeconds('wait=2.5'), 10, 'wait=2.5 is malformed');
  t.equal(preferredWaitSeconds('wait=3s'), 10, 'wait=3s is malformed');
  t.equal(preferredWaitSeconds('wait=2.5, respond-async'), 10);
  t.equal(preferredWaitSeconds('wait=12345678'), 30, 'seven digits and more: bounded, not cut to six');
  t.equal(preferredWaitSeconds('wait="4"'), 4, 'a quoted value');
  t.equal(preferredWaitSeconds('wait=4; x=y, respond-async'), 4, 'followed by a parameter');
  t.equal(preferredWaitSeconds('wait = 6 '), 6, 'spaces around');
  // A wait that is not delta-seconds is malformed, so ignored: its leading digits were taken.
  for (const malformed of ['wait=1e1', 'wait=5.5', 'wait=0x10', 'wait=10abc', 'wait="5', 'wait=-1']) t.equal(preferredWaitSeconds(malformed), 10, `${malformed}: the default`);
  t.equal(preferredWaitSeconds('wait="7"'), 7, 'a quoted wait');
  t.equal(preferredWaitSeconds('wait = 5 , respond-async'), 5, 'white space around it');
  t.equal(preferredWaitSeconds('wait=5; foo'), 5, 'a parameter after it');
  t.equal(preferredWaitSeconds('wait=99999999999999999999'), 30, 'however many digits: bounded');
});
