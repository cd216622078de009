// The mock portal refused a DongBoHoSoMC whose NgayTra is before NgayTiepNhan (error_code 3 naming
// data[0].NgayTra, as docs/one-stop-shop-guide.md §9 says it validates), but took the same date
// on CapNhatTienDoHoSoMC: a progress step to status 10 with `returnedAt` before the dossier was
// received was acknowledged and stored, so a one-stop system's wrong return date went unnoticed
// in tests and demos and the dossier showed "returned" before "received". The progress call now
// refuses it the same way, storing nothing.
import t from 'tap';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { buildMockPortal } from '../services/mock-portal/portal-app.js';
import { createTestDatabase } from './helpers/test-database.js';
import { ProcedureCatalogue } from '../services/mock-portal/procedure-catalogue.js';

const ACCOUNT = { username: 'lgsp-h49', password: 'mật-khẩu-thử-nghiệm' };
const AGENCY = '000.00.15.H49';
const CODE = '000.00.15.H49-260115-0042';

t.test('a return date before the dossier was received is refused on progress as on sync', async (t) => {
  const database = await createTestDatabase('mock-portal-returned-before-received');
  const procedures = ProcedureCatalogue.load(join(PROJECT_ROOT, 'seeds', 'procedures.json'));
  const portal = await buildMockPortal({ databaseUrl: database.url, accounts: [ACCOUNT], procedures });
  const url = await portal.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    await portal.app.close();
    await database.drop();
  });
  const post = async (path: string, body: unknown) =>
    (await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const { session } = await post('/api/auth/login', ACCOUNT);
  const progress = (item: Record<string, unknown>) =>
    post('/api/integration', { session, madonvi: AGENCY, service: 'CapNhatTienDoHoSoMC', data: [{ MaHoSo: CODE, NguoiXuLy: 'Trần Thị Bình', ...item }] });

  const created = await post('/api/integration', {
    session,
    madonvi: AGENCY,
    service: 'DongBoHoSoMC',
    isUpdating: 'False',
    data: [{ MaHoSo: CODE, MaTTHC: '1.001234', MaLinhVuc: 'LLTP', ChuHoSo: 'Nguyễn Văn An', LoaiDoiTuong: '1', NgayTiepNhan: '20260115083000', NgayHenTra: '20260129170000', TrangThaiHoSo: '2' }],
  });
  t.equal(created.error_code, '0', 'created');
  t.equal((await progress({ TrangThai: '4', ThoiDiemXuLy: '20260116091500' })).error_code, '0');
  t.equal((await progress({ TrangThai: '9', ThoiDiemXuLy: '20260120091500' })).error_code, '0');

  const early = await progress({ TrangThai: '10', ThoiDiemXuLy: '20260121091500', NgayTra: '20260110090000' });
  t.equal(early.error_code, '3', 'invalid data');
  t.match(early.errors, [{ field: 'data[0].NgayTra', message: /NgayTiepNhan/ }], 'names NgayTra');
  const stored = (await (await fetch(`${url}/_admin/dossiers?code=${CODE}`)).json()).dossiers[0];
  t.equal(stored.status, '9', 'nothing stored');
  t.equal(stored.record.NgayTra, undefined, 'no return date stored');

  t.equal((await progress({ TrangThai: '10', ThoiDiemXuLy: '20260121091500', NgayTra: '20260121091500' })).error_code, '0', 'a return date after receipt is taken');
});
