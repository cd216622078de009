// The mock National Public Service Portal on its own (no bus): sessions, validation with its
// own codes, the lifecycle, idempotent progress, lookups, the catalogue, fault knobs and
// persistence across a restart.
import t from 'tap';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { buildMockPortal, type MockPortal } from '../services/mock-portal/portal-app.js';
import { createTestDatabase } from './helpers/test-database.js';
import { ProcedureCatalogue } from '../services/mock-portal/procedure-catalogue.js';

const ACCOUNT = { username: 'lgsp-h49', password: 'mật-khẩu-thử-nghiệm' };
const AGENCY = '000.00.15.H49';
const procedures = ProcedureCatalogue.load(join(PROJECT_ROOT, 'seeds', 'procedures.json'));

async function start(databaseUrl: string, extra: { sessionTtlSeconds?: number } = {}): Promise<{ portal: MockPortal; url: string }> {
  const portal = await buildMockPortal({ databaseUrl, accounts: [ACCOUNT], procedures, ...extra });
  const url = await portal.app.listen({ port: 0, host: '127.0.0.1' });
  return { portal, url };
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

function dossier(code: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    MaHoSo: code,
    MaTTHC: '1.001234',
    TenTTHC: 'Cấp Phiếu lý lịch tư pháp',
    MaLinhVuc: 'LLTP',
    ChuHoSo: 'Nguyễn Văn An',
    LoaiDoiTuong: '1',
    NgayTiepNhan: '20260115083000',
    NgayHenTra: '20260129170000',
    TrangThaiHoSo: '1',
    TaiLieuNop: [{ TepDinhKemId: 'TL-1', TenTepDinhKem: 'Tờ khai' }],
    DanhSachLePhi: [{ TenPhiLePhi: 'Phí cung cấp thông tin', Gia: 200000, LoaiPhiLePhi: '1' }],
    ...overrides,
  };
}

t.test('mock portal', async (t) => {
  const database = await createTestDatabase('mock-portal');
  let { portal, url } = await start(database.url);
  t.teardown(async () => {
    await portal.app.close();
    await database.drop();
  });
  const login = async () => (await post(url, '/api/auth/login', ACCOUNT)).body.session as string;
  const sync = (session: string, data: unknown[], isUpdating: unknown = 'False', madonvi = AGENCY) =>
    post(url, '/api/integration', { session, madonvi, service: 'DongBoHoSoMC', isUpdating, data });
  const progress = (session: string, data: unknown[], madonvi = AGENCY) => post(url, '/api/integration', { session, madonvi, service: 'CapNhatTienDoHoSoMC', data });
  const lookup = (session: string, mahoso: string, madonvi = AGENCY) => post(url, '/api/share', { session, madonvi, service: 'TraCuuHoSo', mahoso });
  const admin = async (code: string) => (await (await fetch(`${url}/_admin/dossiers?code=${encodeURIComponent(code)}`)).json()).dossiers[0];
  const faults = async (body: unknown) => fetch(`${url}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  await t.test('sessions: wrong password refused, calls without a session refused', async (t) => {
    const bad = await post(url, '/api/auth/login', { ...ACCOUNT, password: 'sai' });
    t.same([bad.status, bad.body.error_code], [200, '2']);
    t.notOk(bad.body.session);
    const none = await sync('not-a-session', [dossier('S-0')]);
    t.equal(none.body.error_code, '1', 'invalid session');
    t.match(await login(), /^[A-Za-z0-9_-]{20,}$/);
  });

  await t.test('DongBoHoSoMC validates fields, dates, procedure codes; a refused batch stores nothing', async (t) => {
    const s = await login();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ NgayTiepNhan: '20260231083000' }, '3', 'data[0].NgayTiepNhan'],
      [{ NgayTiepNhan: '2026-01-15T08:30:00+07:00' }, '3', 'data[0].NgayTiepNhan'],
      [{ NgayHenTra: '20260101000000' }, '3', 'data[0].NgayHenTra'],
      [{ MaTTHC: '1.999999' }, '4', 'data[0].MaTTHC'],
      [{ MaTTHC: '1001234' }, '3', 'data[0].MaTTHC'],
      [{ MaLinhVuc: 'HT' }, '3', 'data[0].MaLinhVuc'],
      [{ TrangThaiHoSo: '11' }, '3', 'data[0].TrangThaiHoSo'],
      [{ TrangThaiHoSo: 2 }, '3', 'data[0].TrangThaiHoSo'],
      [{ LoaiDoiTuong: '3' }, '3', 'data[0].LoaiDoiTuong'],
      [{ ChuHoSo: '' }, '3', 'data[0].ChuHoSo'],
      [{ TrangThaiHoSo: '10' }, '3', 'data[0].NgayTra'],
      [{ DanhSachLePhi: [{ TenPhiLePhi: 'x', Gia: -1, LoaiPhiLePhi: '1' }] }, '3', 'data[0].DanhSachLePhi[0].Gia'],
    ];
    for (const [override, code, field] of cases) {
      const r = await sync(s, [dossier('V-1', override)]);
      t.equal(r.body.error_code, code, `${JSON.stringify(override)} → ${code}`);
      t.ok(r.body.errors?.some((e: { field: string }) => e.field === field), `names ${field}`);
    }
    const batch = await sync(s, [dossier('V-2'), dossier('V-3', { NgayHenTra: 'x' })]);
    t.equal(batch.body.error_code, '3');
    t.ok(batch.body.errors.some((e: { field: string }) => e.field === 'data[1].NgayHenTra'), 'second item named');
    t.notOk(await admin('V-2'), 'the valid item of a refused batch was not stored');
    const agency = await post(url, '/api/integration', { session: s, madonvi: 'not an agency', service: 'DongBoHoSoMC', data: [dossier('V-4')] });
    t.equal(agency.body.error_code, '8');
    const service = await post(url, '/api/integration', { session: s, madonvi: AGENCY, service: 'XoaHoSo', data: [dossier('V-4')] });
    t.equal(service.body.error_code, '7');
    const malformed = await fetch(`${url}/api/integration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"session":' });
    t.equal(malformed.status, 400);
    t.equal((await malformed.json()).error_code, '3');
  });

  await t.test('creation, updates, the lifecycle and duplicate detection', async (t) => {
    const s = await login();
    t.equal((await sync(s, [dossier('L-1')])).body.error_code, '0', 'created');
    t.equal((await sync(s, [dossier('L-4', { TrangThaiHoSo: '4' })])).body.error_code, '5', 'a new dossier cannot start as processing');
    t.equal((await sync(s, [dossier('L-404')], 'True')).body.error_code, '6', 'update of an unknown dossier');
    const local = await sync(s, [dossier('L-LOCAL', { MaTTHC: '1.001234.000.00.15.H49' })]);
    t.equal(local.body.error_code, '0', 'local variant of a national code accepted');

    const illegal = await progress(s, [{ MaHoSo: 'L-1', TrangThai: '9', ThoiDiemXuLy: '20260116090000' }]);
    t.equal(illegal.body.error_code, '5', '1 → 9 refused');
    t.equal(illegal.body.current_status, '1');
    const accepted = { MaHoSo: 'L-1', TrangThai: '2', ThoiDiemXuLy: '20260115090000', NguoiXuLy: 'Trần Thị Bình', NoiDungXuLy: 'Tiếp nhận' };
    t.equal((await progress(s, [accepted])).body.error_code, '0', '1 → 2');
    t.equal((await progress(s, [accepted])).body.error_code, '0', 'the same update again is acknowledged');
    t.equal((await progress(s, [{ MaHoSo: 'L-1', TrangThai: '4', ThoiDiemXuLy: '20260116090000' }])).body.error_code, '0', '2 → 4');
    t.equal((await sync(s, [dossier('L-1', { TrangThaiHoSo: '4', NgayHenTra: '20260130170000' })], true)).body.error_code, '0', 'update keeping the status');
    const back = await sync(s, [dossier('L-1', { TrangThaiHoSo: '1' })], 'true');
    t.equal(back.body.error_code, '5', 'an update cannot move the status backwards');

    let view = await admin('L-1');
    t.same(view.statusHistory.map((h: { status: string }) => h.status), ['1', '2', '4'], 'history without repeats');
    t.match(view, { copies: 1, submissions: 2, progressUpdates: 3, status: '4' });
    t.equal(view.record.NgayHenTra, '20260130170000', 'update applied');

    t.equal((await sync(s, [dossier('L-1')], false)).body.error_code, '0');
    view = await admin('L-1');
    t.equal(view.copies, 2, 'a second creation of the same dossier is counted as a duplicate');

    const found = await lookup(s, 'L-1');
    t.equal(found.body.error_code, '0');
    t.equal(found.body.result.length, 1);
    t.match(found.body.result[0], { MaHoSo: 'L-1', TrangThaiHoSo: '4', ChuHoSo: 'Nguyễn Văn An' });
    t.same(found.body.result[0].QuaTrinhXuLy.map((h: { TrangThai: string }) => h.TrangThai), ['1', '2', '4']);
    t.same((await lookup(s, 'L-1', '000.00.24.H49')).body.result, [], 'another agency does not see it');
    t.same((await lookup(s, 'NOPE-1')).body.result, [], 'unknown dossier: empty result');

    const catalogue = await post(url, '/api/share', { session: s, madonvi: AGENCY, service: 'LayDanhSachTTHC' });
    t.ok(catalogue.body.result.some((p: { MATTHC: string; LINHVUCTHUCHIEN: { MALINHVUC: string }[] }) => p.MATTHC === '1.001234' && p.LINHVUCTHUCHIEN[0].MALINHVUC === 'LLTP'));
  });

  await t.test('fault knobs: bursts with Retry-After, errors, lost answers, latency, session expiry', async (t) => {
    const s = await login();
    const invalid = await faults({ errorRate: 2, burst: { status: 418, count: 1 } });
    t.equal(invalid.status, 400);
    // The fault knobs are the simulator's own: refused as problem+json, not in the portal's shape.
    t.match(invalid.headers.get('content-type'), /^application\/problem\+json/);
    const refusedKnobs = await invalid.json();
    t.match(refusedKnobs, { status: 400, code: 'VALIDATION_FAILED', title: String, type: String, detail: /errorRate/ });
    t.notOk('error_code' in refusedKnobs, 'not the portal\'s own error shape');
    const fields = refusedKnobs.errors.map((e: { field: string }) => e.field);
    t.ok(fields.includes('errorRate') && fields.includes('burst.status'), 'invalid knobs named');
    // Ajv's "must be equal to one of the allowed values" left the caller guessing which: the
    // values are named, in the bus's own words (problem-handler.ts: fieldErrors).
    const said = (errors: { field: string; message: string }[], field: string) => errors.filter((e) => e.field === field).map((e) => e.message);
    t.same(said(refusedKnobs.errors, 'burst.status'), ['must be one of 429, 503'], 'the allowed values named');
    t.match(refusedKnobs.detail, /burst\.status must be one of 429, 503/);
    const wrongStatus = await (await faults({ errorStatus: 501 })).json();
    t.same(said(wrongStatus.errors, 'errorStatus'), ['must be one of 500, 502, 503, 504']);
    t.notMatch(JSON.stringify([refusedKnobs, wrongStatus]), /allowed values/, 'no refusal leaves them out');
    const unparsable = await fetch(`${url}/_admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"errorRate":' });
    t.match([unparsable.status, unparsable.headers.get('content-type'), (await unparsable.json()).code], [400, /^application\/problem\+json/, 'MALFORMED_JSON']);
    const noControl = await fetch(`${url}/_admin/nothing`);
    t.match([noControl.status, noControl.headers.get('content-type'), (await noControl.json()).code], [404, /^application\/problem\+json/, 'ROUTE_NOT_FOUND']);
    const noService = await fetch(`${url}/api/nothing`);
    t.match([noService.status, (await noService.json()).error_code], [404, String], 'a path of the imitated portal keeps the portal\'s shape');

    await faults({ burst: { status: 429, count: 2, retryAfterSeconds: 3 } });
    const first = await lookup(s, 'L-1');
    t.same([first.status, first.headers.get('retry-after'), first.body.error_code], [429, '3', '9']);
    t.equal((await lookup(s, 'L-1')).status, 429);
    t.equal((await lookup(s, 'L-1')).status, 200, 'burst over');

    await faults({ burst: { status: 503, count: 1, retryAfterSeconds: 1 } });
    const unavailable = await lookup(s, 'L-1');
    t.same([unavailable.status, unavailable.headers.get('retry-after'), unavailable.body.error_code], [503, '1', '10']);

    await faults({ errorRate: 1, errorStatus: 502 });
    const failing = await sync(s, [dossier('F-1')]);
    t.same([failing.status, failing.body.error_code], [502, '-1']);
    await faults({ lostReplyRate: 1 });
    t.equal((await sync(s, [dossier('F-2')])).status, 504, 'answer lost');
    await faults({});
    t.equal((await admin('F-2')).copies, 1, 'but the dossier was stored');
    t.notOk(await admin('F-1'), 'a refused call stored nothing');

    await faults({ latencyMs: 250 });
    const began = Date.now();
    await lookup(s, 'L-1');
    t.ok(Date.now() - began >= 240, 'latency applied');

    await faults({ expireSessions: true });
    t.equal((await lookup(s, 'L-1')).body.error_code, '1', 'forced expiry');
    const fresh = await login();
    await faults({ sessionTtlSeconds: 1 });
    t.equal((await lookup(fresh, 'L-1')).body.error_code, '0');
    await new Promise((r) => setTimeout(r, 1100));
    t.equal((await lookup(fresh, 'L-1')).body.error_code, '1', 'expired after its lifetime');
    await faults({});
    const stats = await (await fetch(`${url}/_admin/stats`)).json();
    t.ok(stats.logins >= 4 && stats.byOutcome.fault >= 4 && stats.byOutcome.lost >= 1, 'stats count logins, faults and lost answers');

    const log = async (query: string) => {
      const r = await fetch(`${url}/_admin/calls${query}`);
      return { status: r.status, body: await r.json() };
    };
    t.equal((await log('?limit=2')).body.calls.length, 2, 'the call log honours its limit');
    t.ok((await log('')).body.calls.length > 2, 'and has a default');
    for (const limit of ['abc', '0', '-3', '2.5', '']) {
      const refused = await log(`?limit=${limit}`);
      t.equal(refused.status, 400, `limit=${limit} refused`);
      t.match(refused.body, { status: 400, code: 'VALIDATION_FAILED', detail: /^Invalid query string: limit must be a whole number/, errors: [{ field: 'querystring.limit', message: /whole number/ }] });
    }
    const badSource = await fetch(`${url}/_admin/dossiers?source=paper`);
    t.equal(badSource.status, 400, 'an unknown dossier source is refused, not read as "none of them"');
    t.match(badSource.headers.get('content-type'), /^application\/problem\+json/);
    t.match(await badSource.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'querystring.source', message: /one-stop or online/ }] });
  });

  await t.test('citizens file online; dossiers survive a restart, sessions do not', async (t) => {
    const filed = await post(url, '/citizen/dossiers', { MaTTHC: '1.001193', ChuHoSo: 'Lê Thị Cúc', LoaiDoiTuong: '1', TrichYeuHoSo: 'Đăng ký khai sinh cho con' });
    t.equal(filed.status, 201);
    t.match(filed.body, { error_code: '0', MaDonVi: 'H49.242.10', MaHoSo: /^H49\.242\.10-\d{6}-\d{6}$/ });
    const refused = await post(url, '/citizen/dossiers', { MaTTHC: '1.001193', MaDonVi: AGENCY, ChuHoSo: 'Lê Thị Cúc', LoaiDoiTuong: '1' });
    t.equal(refused.body.error_code, '3', 'an agency that does not handle the procedure');
    t.ok(refused.body.errors.some((e: { field: string }) => e.field === 'hoSo.MaDonVi'));

    const s = await login();
    await portal.app.close();
    ({ portal, url } = await start(database.url));
    const kept = await admin('L-1');
    t.same(kept.statusHistory.map((h: { status: string }) => h.status), ['1', '2', '4'], 'history kept');
    const online = (await (await fetch(`${url}/_admin/dossiers?source=online`)).json()).dossiers[0];
    t.match(online, { dossierCode: filed.body.MaHoSo, status: '1', source: 'online', handover: { deliveredAt: null } });
    t.equal((await lookup(s, 'L-1')).body.error_code, '1', 'sessions end with a restart');
    const next = await post(url, '/citizen/dossiers', { MaTTHC: '1.001193', ChuHoSo: 'Phạm Văn Dũng', LoaiDoiTuong: '1' });
    t.not(next.body.MaHoSo, filed.body.MaHoSo, 'dossier numbers continue after a restart');
  });
});
