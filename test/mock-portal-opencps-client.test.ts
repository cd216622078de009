// The mock portal driven the way a one-stop-shop system shaped like OpenCPS's public DVCQG
// integration drives it: one configured endpoint for every call, a session from login,
// LayThuTuc (maTTHC) to fill TenTTHC/MaLinhVuc/TenLinhVuc before DongBoHoSoMC, every optional
// field sent as "" and every list empty, isUpdating as the string "False", TraCuuHoSo with a
// lowercase `mahoso`, CapNhatTienDoHoSoMC with the client's own optional fields as "".
import t from 'tap';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { buildMockPortal } from '../services/mock-portal/portal-app.js';
import { ProcedureCatalogue } from '../services/mock-portal/procedure-catalogue.js';
import { createTestDatabase } from './helpers/test-database.js';

const ACCOUNT = { username: 'lgsp-h49', password: 'mật-khẩu-thử-nghiệm' };
const MADONVI = '000.00.15.H49';

/** The client: JSON bodies built as the public integration builds them, error_code read as a number. */
class OpenCpsShapedClient {
  private readonly adapterUrl: string;
  private readonly integrationEndpoint: string;

  constructor(adapterUrl: string, integrationEndpoint = '/api/integration') {
    this.adapterUrl = adapterUrl;
    this.integrationEndpoint = integrationEndpoint;
  }

  private async post(path: string, body: Record<string, unknown>): Promise<any> {
    const r = await fetch(this.adapterUrl + path, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', charset: 'utf-8', dstcode: MADONVI },
      body: JSON.stringify(body),
    });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return r.json();
  }

  async accessToken(): Promise<string> {
    const result = await this.post('/api/auth/login', ACCOUNT);
    return result.session && Number(result.error_code) === 0 ? result.session : '';
  }

  /** getSharingData: session and madonvi, then the call's own keys, to the integration endpoint. */
  async sharingData(data: Record<string, unknown>): Promise<any> {
    const session = await this.accessToken();
    if (!session) return {};
    return this.post(this.integrationEndpoint, { session, madonvi: MADONVI, ...data });
  }

  async syncDossier(dossier: { no: string; serviceCode: string; contactName: string; receiveDate: string; dueDate: string; status: string; finishDate?: string }): Promise<any> {
    const info = await this.sharingData({ service: 'LayThuTuc', maTTHC: dossier.serviceCode });
    const first = info.result?.[0];
    const object = {
      MaHoSo: dossier.no,
      MaTTHC: dossier.serviceCode,
      TenTTHC: first ? first.TENTTHC : '',
      MaLinhVuc: first ? first.LINHVUCTHUCHIEN[0].MALINHVUC : '',
      TenLinhVuc: first ? first.LINHVUCTHUCHIEN[0].TENLINHVUC : '',
      ChuHoSo: dossier.contactName,
      LoaiDoiTuong: '1',
      MaDoiTuong: '',
      ThongTinKhac: '',
      Email: '',
      Fax: '',
      SoDienThoai: '',
      TrichYeuHoSo: '',
      NgayTiepNhan: dossier.receiveDate,
      NgayHenTra: dossier.dueDate,
      TrangThaiHoSo: dossier.status,
      NgayTra: dossier.finishDate ?? '',
      ThongTinTra: '',
      HinhThuc: '0',
      NgayKetThucXuLy: '',
      DonViXuLy: 'Sở Tư pháp',
      GhiChu: '',
      TaiLieuNop: [],
      DanhSachLePhi: [],
      DanhSachTepDinhKemKhac: [],
      DanhSachHoSoBoSung: [],
      DanhSachGiayToKetQua: [],
    };
    return this.sharingData({ service: 'DongBoHoSoMC', isUpdating: 'False', data: [object] });
  }

  async syncStatus(no: string, status: string, at: string): Promise<any> {
    const object = { MaHoSo: no, NguoiXuLy: 'Lê Văn Bình', ChucDanh: '', ThoiDiemXuLy: at, PhongBanXuLy: '', NoiDungXuLy: 'Chuyển xử lý', TrangThai: status, NgayBatDau: '', NgayKetThucTheoQuyDinh: '' };
    return this.sharingData({ service: 'CapNhatTienDoHoSoMC', data: [object] });
  }

  lookup(no: string): Promise<any> {
    return this.sharingData({ service: 'TraCuuHoSo', mahoso: no });
  }
}

t.test('an OpenCPS-shaped one-stop-shop client against the mock portal', async (t) => {
  const database = await createTestDatabase('opencps-client');
  const portal = await buildMockPortal({ databaseUrl: database.url, accounts: [ACCOUNT], procedures: ProcedureCatalogue.load(join(PROJECT_ROOT, 'seeds', 'procedures.json')) });
  const url = await portal.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    await portal.app.close();
    await database.drop();
  });
  const client = new OpenCpsShapedClient(url);

  await t.test('LayThuTuc answers a procedure from the catalogue, on either endpoint', async (t) => {
    const info = await client.sharingData({ service: 'LayThuTuc', maTTHC: '1.001234' });
    t.equal(Number(info.error_code), 0, 'answered, not "unsupported service"');
    t.equal(info.result.length, 1);
    t.match(info.result[0], { MATTHC: '1.001234', TENTTHC: /^Cấp Phiếu lý lịch tư pháp/, LINHVUCTHUCHIEN: [{ MALINHVUC: 'LLTP', TENLINHVUC: 'Lý lịch tư pháp' }] });
    t.ok(info.result[0].THANHPHANHOSO.length > 0, 'with the dossier components');
    const viaShare = await new OpenCpsShapedClient(url, '/api/share').sharingData({ service: 'LayThuTuc', maTTHC: '1.001234' });
    t.same(viaShare.result, info.result, 'the share endpoint answers the same');
    const local = await client.sharingData({ service: 'LayThuTuc', maTTHC: '1.001234.000.00.15.H49' });
    t.equal(local.result[0].MATTHC, '1.001234', 'a local variant answers with its national procedure');
    const unknown = await client.sharingData({ service: 'LayThuTuc', maTTHC: '1.999999' });
    t.same([unknown.error_code, unknown.result], ['4', undefined], 'an unknown code is "unknown procedure"');
    const missing = await client.sharingData({ service: 'LayThuTuc' });
    t.match(missing, { error_code: '3', errors: [{ field: 'maTTHC' }] }, 'no code: the field is named');
    const other = await client.sharingData({ service: 'LayGiDo' });
    t.equal(other.error_code, '7', 'a service the portal does not have is still refused');
  });

  await t.test('sync, look up (lowercase mahoso) and progress, as the client sends them', async (t) => {
    const synced = await client.syncDossier({ no: 'H49.15-260301-0001', serviceCode: '1.001234', contactName: 'Nguyễn Văn An', receiveDate: '20260301083000', dueDate: '20260315170000', status: '1' });
    t.equal(Number(synced.error_code), 0, `DongBoHoSoMC accepted: ${JSON.stringify(synced)}`);
    const found = await client.lookup('H49.15-260301-0001');
    t.equal(Number(found.error_code), 0);
    t.match(found.result[0], { MaHoSo: 'H49.15-260301-0001', TenTTHC: /^Cấp Phiếu lý lịch tư pháp/, MaLinhVuc: 'LLTP', TrangThaiHoSo: '1' }, 'the names LayThuTuc gave are what the portal stored');
    const progressed = await client.syncStatus('H49.15-260301-0001', '2', '20260301090000');
    t.equal(Number(progressed.error_code), 0, `CapNhatTienDoHoSoMC accepted: ${JSON.stringify(progressed)}`);
    const after = await client.lookup('H49.15-260301-0001');
    t.equal(after.result[0].TrangThaiHoSo, '2', 'progress recorded');
    const none = await client.lookup('H49.15-260301-9999');
    t.same([Number(none.error_code), none.result], [0, []], 'an unknown dossier is an empty result');
  });
});
