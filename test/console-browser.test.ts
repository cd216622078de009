// The operator console as a person uses it, in real headless Chromium (Debian's, driven by
// playwright-core; no browser is downloaded): log in, watch a sent message appear live, open
// its trace, replay a dead letter and see it delivered, switch language, read the audit trail
// and connectors, export the KPI CSV, all with no console errors. Screenshots go to
// .tap/screenshots (git-ignored; LGSP_SCREENSHOT_DIR overrides).
import t from 'tap';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { CHROMIUM, openChromiumPage } from './helpers/chromium-page.js';

const SHOTS = process.env.LGSP_SCREENSHOT_DIR ?? join(PROJECT_ROOT, '.tap', 'screenshots');
const WAIT = { timeout: 20_000 };

t.test('operator console in Chromium', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does)`);
  mkdirSync(SHOTS, { recursive: true });
  const bus = await startTestBus(t, { name: 'console-ui' });
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());
  const consoleSvc = await startConsole(bus.config, {
    upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner!.url },
    lagIntervalMs: 500,
  });
  t.teardown(() => consoleSvc.stop());
  const sender = bus.client('so-tttt-qlvb');

  const { page } = await openChromiumPage(t, { viewport: { width: 1440, height: 960 }, locale: 'vi-VN', acceptDownloads: true, timeoutMs: WAIT.timeout });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

  await t.test('the login page is Vietnamese by default', async (t) => {
    await page.goto(consoleSvc.url);
    await page.locator('#login-view').waitFor({ state: 'visible' });
    t.equal(await page.getAttribute('html', 'lang'), 'vi');
    t.equal(await page.locator('#login-view h2').textContent(), 'Đăng nhập vận hành');
    await shot('01-login');
  });

  await t.test('a wrong secret is refused on the page', async (t) => {
    await page.fill('#client-id', 'lgsp-operator');
    await page.fill('#client-secret', 'sai-mat-khau');
    // The 401 answer is expected here; the browser logs it as a failed resource load.
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error').waitFor({ state: 'visible' });
    t.match(await page.locator('#login-error').textContent(), /^Sai mã hệ thống hoặc mật khẩu — .*\(LOGIN_FAILED\)$/, 'the reason in Vietnamese first');
    // Only the expected 401 resource load of this step is forgiven.
    const expected = consoleErrors.filter((e) => /status of 401/.test(e));
    t.ok(expected.length <= 1);
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !expected.includes(e)));
  });

  await t.test('an operator logs in and watches a sent message appear live', async (t) => {
    await page.fill('#client-id', 'lgsp-operator');
    await page.fill('#client-secret', bus.clients.get('lgsp-operator')!.clientSecret!);
    await page.click('#login-form button[type=submit]');
    await page.locator('#app-view').waitFor({ state: 'visible' });
    t.match(await page.locator('#who').textContent(), /lgsp-operator \(vận hành\)/);
    await page.locator('#live-dot.on').waitFor();
    const sent = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'TB-01/STTTT', payload: { subject: 'Lịch họp giao ban', body: 'Kính gửi Sở Tư pháp' } });
    t.equal(sent.status, 202);
    const row = page.locator(`#live-messages tr[data-id="${sent.body.id}"]`);
    await row.waitFor();
    await row.locator('.badge.delivered').waitFor();
    await page.locator('#live-routes td', { hasText: '000.00.15.H49' }).first().waitFor();
    await page.locator('#live-lag tr[data-group="relay"]').waitFor();
    t.ok(Number(await page.locator('#last-minute [data-event="accepted"]').getAttribute('data-count')) >= 1, 'live counters moved');
    t.match(await page.locator('#last-minute').textContent(), /tiếp nhận: \d/, 'event names in Vietnamese');
    // Accepted and delivered coincide on a healthy bus: accepted is the wider band beneath, so
    // both stay visible.
    const strokes = await page.locator('#sparkline path').evaluateAll((ps) => ps.map((p) => [(p as SVGElement).dataset.series, Number(p.getAttribute('stroke-width'))]));
    t.equal(strokes[0][0], 'accepted', 'accepted is drawn first, beneath the others');
    t.ok((strokes[0][1] as number) > (strokes[1][1] as number), 'and wider than delivered, which would otherwise hide it');
    await shot('02-live');

    await row.click();
    await page.locator('#trace-hops li[data-event="delivered"]').waitFor();
    const hops = await page.locator('#trace-hops li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.event));
    t.same(hops, ['accepted', 'delivered'], 'the trace shows every hop');
    t.equal(await page.locator('#trace-id').textContent(), sent.body.id);
    t.notMatch(await page.locator('#trace-body').textContent(), /null/, 'sections a trace lacks are left out, not shown as "null"');
    await shot('03-trace');
    await page.click('#trace-close');
  });

  await t.test('a dead letter is replayed with one click and then shows as delivered', async (t) => {
    bus.simulator.modes.set('so-khdt-qlvb', { mode: 'reject' });
    const sent = await sender.send({ type: 'notice.send', to: { member: '000.00.24.H49', service: 'notice' }, payload: { subject: 'Báo cáo tháng', body: 'Gửi Sở KH&ĐT' } });
    const id = sent.body.id as string;
    await eventually(async () => (await sender.status(id)).body.status === 'dead_lettered');
    await page.click('.tabs button[data-tab="dead-letters"]');
    const row = page.locator(`#dlq-results tr[data-message-id="${id}"]`);
    await row.waitFor();
    t.match(await row.textContent(), /422/, 'the reason is shown');
    await shot('04-dead-letters');
    // While it waits, a bulk replay asks to confirm a count.
    await page.click('#bulk-replay');
    await page.locator('#bulk-confirm').waitFor();
    t.match(await page.locator('#bulk-count').textContent(), /^[1-9]\d* /, 'bulk replay asks to confirm a count');
    t.equal(await page.locator('#bulk-go').isVisible(), true, 'with a replay to confirm');
    await page.click('#bulk-cancel');

    bus.simulator.modes.set('so-khdt-qlvb', { mode: 'ok' });
    await row.locator('button.replay').click();
    await page.locator('#notice', { hasText: id }).waitFor();
    await page.locator(`#dlq-results tr[data-message-id="${id}"] .badge.ok`).or(page.locator('#dlq-results td.hint')).first().waitFor();
    await eventually(() => (bus.simulator.received.get('so-khdt-qlvb') ?? []).some((m) => m.id === id));

    // Bulk replay with the form as it opens ("replayed: no"), the one dead letter replayed: not an
    // error, and not an offer to replay "0 thông điệp lỗi" either: nothing to replay, nothing to confirm.
    await page.click('#bulk-replay');
    await page.locator('#bulk-confirm').waitFor();
    t.equal(await page.locator('#bulk-count').textContent(), 'Không có thông điệp lỗi nào khớp bộ lọc để phát lại', 'nothing to replay, said in Vietnamese');
    t.equal(await page.locator('#bulk-go').isVisible(), false, 'and no replay to confirm');
    await page.click('#bulk-cancel');

    await page.click('.tabs button[data-tab="messages"]');
    await page.fill('#message-search input[name="q"]', id);
    // Today → today (Vietnam's date) finds today's message: the "to" day is included.
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    await page.fill('#message-search input[name="from"]', today);
    await page.fill('#message-search input[name="to"]', today);
    await page.click('#message-search button[type=submit]');
    await page.locator(`#message-results tr[data-id="${id}"]`).click();
    await page.locator('#trace-hops li[data-event="replayed"]').waitFor();
    await page.locator('#trace-status .badge.delivered').waitFor();
    const hops = await page.locator('#trace-hops li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.event));
    t.same(hops.slice(-2), ['replayed', 'delivered'], 'delivered after the replay');
    // Durations are written like the view's other numbers: the decimal comma in Vietnamese.
    const durations = await page.evaluate(async (url) => {
      const { formatDuration } = (await import(url)) as { formatDuration: (ms: number, lang: string) => string };
      return [formatDuration(460, 'vi'), formatDuration(1250, 'vi'), formatDuration(1250, 'en'), formatDuration(1_234_500, 'vi')];
    }, '/ui/numbers.js');
    t.same(durations, ['+460 ms', '+1,25 s', '+1.25 s', '+1.234,50 s'], 'durations use the decimal comma in Vietnamese');
    // Instants in a step's detail read on Vietnam's clock, as the step's own time does, not in UTC.
    const deadLetteredDetail = (await page.locator('#trace-hops li[data-event="dead_lettered"] pre').first().textContent())!;
    t.match(deadLetteredDetail, /"acceptedAt": "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00"/);
    t.notMatch(deadLetteredDetail, /\d"Z|Z"/, 'no UTC instant left');
    const acceptedAt = JSON.parse(deadLetteredDetail).acceptedAt as string;
    const accepted = ((await sender.status(id)).body.events as Array<{ event: string; at: string }>).find((e) => e.event === 'accepted')!;
    t.equal(Date.parse(acceptedAt), Date.parse(accepted.at), 'the same instant');
    t.match(await page.locator('#trace-body h3:text-is("Thông điệp lỗi") + ul li').first().textContent(), / · Đã phát lại .+ bởi lgsp-operator$/, 'the trace says who replayed the dead letter');
    await shot('05-replayed-trace');
    await page.click('#trace-close');

    // The replayed dead letter says when and by whom (operator guide, Dead letters).
    await page.click('.tabs button[data-tab="dead-letters"]');
    await page.selectOption('#dlq-search select[name="replayed"]', 'true');
    await page.click('#dlq-search button[type=submit]');
    const replayedBadge = page.locator(`#dlq-results tr[data-message-id="${id}"] .badge.ok`);
    t.match(await replayedBadge.textContent(), /^Đã phát lại .+ bởi lgsp-operator$/);
    await page.selectOption('#dlq-search select[name="replayed"]', 'false');
  });

  await t.test('the audit trail shows the replay and an intact chain', async (t) => {
    await page.click('.tabs button[data-tab="audit"]');
    await page.selectOption('#audit-search select[name="event"]', 'replayed');
    await page.click('#audit-search button[type=submit]');
    await page.locator('#audit-results td', { hasText: 'console/lgsp-operator' }).first().waitFor();
    await page.locator('#integrity-state.ok').waitFor();
    t.equal(await page.locator('#integrity-state').textContent(), 'Toàn vẹn');
    t.equal(await page.locator('#integrity-scope').textContent(), 'Phạm vi kiểm tra: toàn bộ chuỗi', 'a short chain is checked whole');
    await shot('06-audit');
  });

  await t.test('long message and audit results page on to older entries, filters kept', async (t) => {
    const sent: string[] = [];
    for (let chunk = 0; chunk < 55; chunk += 11) {
      const answers = await Promise.all(Array.from({ length: 11 }, (_, i) => sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `Trang ${chunk + i}`, body: 'x' } })));
      for (const a of answers) sent.push(a.body.id);
    }
    // Pages follow last activity: a message delivered between two pages would move to the first.
    await eventually(async () => (await Promise.all(sent.map((id) => sender.status(id)))).every((r) => r.body.status === 'delivered'), 30_000, 500);
    const rowIds = (table: string) => page.locator(`${table} tbody tr`).evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id ?? tr.textContent ?? ''));

    await page.click('.tabs button[data-tab="messages"]');
    // The transport status filter speaks the page's language, as the results' badges do; the
    // values sent stay the API's.
    const statusOptions = page.locator('#message-search select[name="status"] option');
    t.same(await statusOptions.allTextContents(), ['Tất cả', 'đã tiếp nhận', 'đã chuyển đến', 'lỗi, đang thử lại', 'chuyển thất bại']);
    t.same(await statusOptions.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['', 'accepted', 'delivered', 'failed', 'dead_lettered']);
    // "To" a day before "from": the API's refusal is shown, not an empty list.
    await page.fill('#message-search input[name="q"]', '');
    await page.fill('#message-search input[name="from"]', '2026-12-08');
    await page.fill('#message-search input[name="to"]', '2026-12-07');
    await page.click('#message-search button[type=submit]');
    t.match(await page.locator('#message-results .load-error').textContent(), /Dữ liệu nhập không hợp lệ.*to must not be before from/, 'a reversed range is refused on the page');
    // The browser logs the 400 it was answered: expected here, once.
    const refused = consoleErrors.filter((e) => /status of 400/.test(e));
    t.equal(refused.length, 1, 'the one refusal the browser logged');
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !refused.includes(e)));
    for (const field of ['q', 'from', 'to']) await page.fill(`#message-search input[name="${field}"]`, '');
    await page.fill('#message-search input[name="member"]', '000.00.15.H49');
    await page.click('#message-search button[type=submit]');
    await page.locator('#message-older').waitFor({ state: 'visible' });
    const first = await rowIds('#message-results');
    t.equal(first.length, 50, 'a page of 50 messages');
    // Editing the form does not change the search whose older page is asked for.
    await page.fill('#message-search input[name="member"]', '000.00.99.H49');
    await page.click('#message-older');
    await page.locator(`#message-results tbody tr[data-id="${first[0]}"]`).waitFor({ state: 'detached' });
    const second = await rowIds('#message-results');
    t.ok(second.length >= 6, `the rest on the next page (${second.length})`);
    t.same(second.filter((id) => first.includes(id)), [], 'no message shown twice');
    t.same([...first, ...second].filter((id) => sent.includes(id)).sort(), [...sent].sort(), 'every message sent is on one of the pages');
    const toColumn = await page.locator('#message-results tbody tr td:nth-child(5)').allTextContents();
    t.ok(toColumn.every((to) => to.startsWith('000.00.15.H49')), 'the member filter holds on the older page');
    t.equal(await page.locator('#message-older').isVisible(), false, 'no older page after the last');

    await page.click('.tabs button[data-tab="audit"]');
    await page.selectOption('#audit-search select[name="event"]', '');
    const seqs = async () => (await page.locator('#audit-results tbody tr td:first-child').allTextContents()).map((s) => Number(s.replace(/\D/g, '')));
    // The audit service chains the new messages shortly after they are delivered.
    await eventually(async () => {
      await page.click('#audit-search button[type=submit]');
      await page.locator('#audit-results tbody tr').first().waitFor();
      return (await page.locator('#audit-older').isVisible()) && (await seqs()).length === 100;
    }, 20_000, 500);
    const newest = await seqs();
    await page.click('#audit-older');
    await eventually(async () => ((await seqs())[0] ?? Infinity) < Math.min(...newest));
    const older = await seqs();
    t.ok(older.length > 0, 'an older page of chain entries');
    t.equal(older[0], Math.min(...newest) - 1, 'it goes on exactly where the first page stopped');
  });

  await t.test('connectors and registry are listed', async (t) => {
    await page.click('.tabs button[data-tab="connectors"]');
    await page.locator('#connector-table tr[data-connector="relay"] .badge.RUNNING').waitFor();
    // The delivery statistics read in Vietnamese like the rest of the page, not as API names.
    const relayStats = await page.locator('#connector-table tr[data-connector="relay"] td').nth(4).textContent();
    t.match(relayStats, /^đã chuyển \d+ · thử lại \d+ · vào hàng đợi lỗi \d+ · bị từ chối \d+ · trùng lặp \d+/);
    t.notMatch(relayStats, /delivered|deadLettered|duplicates/);
    await shot('07-connectors');
    await page.click('.tabs button[data-tab="registry"]');
    await page.locator('#reg-members td', { hasText: 'Sở Tư pháp (dữ liệu mẫu)' }).waitFor();
    // Levels and roles read in Vietnamese like the rest of the page, not as registry values.
    const cell = (tableId: string, key: string, column: number) =>
      page.locator(`${tableId} tbody tr`).filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${key.replaceAll('.', '\\.')}$`) }) }).locator('td').nth(column).textContent();
    t.equal(await cell('#reg-members', '000.00.15.H49', 2), 'sở, ban, ngành');
    t.equal(await cell('#reg-members', '000.00.00.H49', 2), 'tỉnh');
    t.equal(await cell('#reg-systems', 'lgsp-observer', 3), 'giám sát');
    t.equal(await cell('#reg-systems', 'so-tp-qlvb', 3), 'cơ quan');
    t.notMatch(await page.locator('#tab-registry').textContent(), /secretHash|privateJwk/);
  });

  await t.test('switching to English and exporting the KPI CSV', async (t) => {
    await page.click('#lang');
    t.equal(await page.getAttribute('html', 'lang'), 'en');
    t.equal(await page.locator('.tabs button[data-tab="live"]').textContent(), 'Live flows');
    await page.click('.tabs button[data-tab="kpi"]');
    await page.locator('#kpi-doc-sent').waitFor();
    t.equal(await page.locator('#kpi-body h3').first().textContent(), 'Inter-agency electronic documents (edoc.*)');
    t.equal(await page.locator('#kpi-doc-rate').textContent(), '—', 'no document traffic yet: shown as a dash, not 0/0');
    await shot('08-kpi-english');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#kpi-export')]);
    t.match(download.suggestedFilename(), /^lgsp-kpi-\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').replace(/^\uFEFF/, '');
    t.match(csv.split('\r\n')[0], /^Agency code,Agency name,From/);
    t.match(csv, /Province total/);
    await page.click('#lang');
    t.equal(await page.locator('.tabs button[data-tab="kpi"]').textContent(), 'Chỉ tiêu (KPI)', 'and back to Vietnamese');
    // The report shown was loaded in English; the export now follows the page's language.
    const [again] = await Promise.all([page.waitForEvent('download'), page.click('#kpi-export')]);
    const csvVi = readFileSync((await again.path())!, 'utf8').replace(/^\uFEFF/, '');
    t.match(csvVi.split('\r\n')[0], /^Mã cơ quan,Tên cơ quan,Từ ngày/, 'the CSV exported after switching back is Vietnamese');
    t.match(csvVi, /Toàn tỉnh/);
  });

  await t.test('a report or a trace that cannot be had is said in the view, in Vietnamese, not left stale or blank', async (t) => {
    // The KPI report shown before stays no longer than the notice once a new one cannot be had.
    await page.click('.tabs button[data-tab="kpi"]');
    await page.locator('#kpi-doc-sent').waitFor();
    await page.route(/\/v1\/console\/kpi\?/, (route) =>
      route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Service unavailable', status: 503, code: 'STATE_UNAVAILABLE', detail: 'The bus\'s shared state store (PostgreSQL) is unreachable' }) }));
    await page.click('#kpi-form button[type=submit]');
    const kpiError = page.locator('#kpi-body .load-error');
    await kpiError.waitFor();
    t.match(await kpiError.textContent(), /^Lỗi: Cơ sở dữ liệu tạm thời không truy cập được — .*\(STATE_UNAVAILABLE\)$/);
    t.equal(await page.locator('#kpi-doc-sent').count(), 0, 'the earlier report is gone');
    await page.unroute(/\/v1\/console\/kpi\?/);
    await page.click('#kpi-form button[type=submit]');
    await page.locator('#kpi-doc-sent').waitFor();

    // A message the console has not seen (a search row of a message since removed from the
    // index, a link pasted from elsewhere): the console's own 404, said like every view's error.
    const unknown = '00000000-0000-7000-8000-000000000000';
    await page.route(/\/v1\/console\/messages\?/, (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ items: [{ id: unknown, type: 'notice.send', fromMember: '000.00.12.H49', toMember: '000.00.15.H49', toService: 'notice', status: 'delivered', lastEventAt: new Date().toISOString() }], nextBefore: null }) }));
    await page.click('.tabs button[data-tab="messages"]');
    await page.click('#message-search button[type=submit]');
    await page.locator(`#message-results tr[data-id="${unknown}"]`).click();
    const traceError = page.locator('#trace-body .load-error');
    await traceError.waitFor();
    t.match(await traceError.textContent(), new RegExp(`^Lỗi: Không tìm thấy thông điệp — .*${unknown}.* \\(MESSAGE_NOT_FOUND\\)$`));
    await page.unroute(/\/v1\/console\/messages\?/);
    await page.click('#trace-close');
    // The refused loads are the expected resource errors of this step.
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !/status of (503|404)/.test(e)));
  });

  await t.test('an observer sees no action buttons', async (t) => {
    // The operator leaves a bulk replay's confirmation open, then logs out: it is not left for
    // whoever logs in next on this page (for an observer, a button that can only fail).
    await page.click('.tabs button[data-tab="dead-letters"]');
    await page.click('#bulk-replay');
    await page.locator('#bulk-confirm').waitFor({ state: 'visible' });
    await page.click('#logout');
    await page.locator('#login-view').waitFor({ state: 'visible' });
    await page.fill('#client-id', 'lgsp-observer');
    await page.fill('#client-secret', bus.clients.get('lgsp-observer')!.clientSecret!);
    await page.click('#login-form button[type=submit]');
    await page.locator('#app-view').waitFor({ state: 'visible' });
    await page.click('.tabs button[data-tab="dead-letters"]');
    await page.locator('#dlq-results tbody tr').first().waitFor();
    t.equal(await page.locator('#bulk-replay').isVisible(), false);
    t.equal(await page.locator('#dlq-results button.replay').count(), 0);
    t.equal(await page.locator('#bulk-confirm').isVisible(), false, 'no confirmation left from the operator\'s session');
    t.equal(await page.locator('#bulk-go').isVisible(), false);
  });

  // Last: it stops the audit service.
  await t.test('a backend that is down is said where its data would be, not left "loading"', async (t) => {
    await audit.stop();
    await page.click('.tabs button[data-tab="audit"]');
    const integrity = page.locator('#integrity-body .load-error');
    await integrity.waitFor();
    t.match(await integrity.textContent(), /^Lỗi: .*UPSTREAM_UNAVAILABLE/, 'the integrity box shows the error');
    t.notMatch(await page.locator('#integrity-body').textContent(), /Đang tải/);
    await page.locator('#audit-results .load-error').waitFor();
    t.match(await page.locator('#audit-results').textContent(), /UPSTREAM_UNAVAILABLE/, 'and so does the trail');
    // Still there once the notice has faded: the notice is not the only trace of the failure.
    await page.locator('#alert').evaluate((n) => { (n as HTMLElement).hidden = true; });
    t.equal(await integrity.isVisible(), true);
    await shot('10-audit-down');
    // The refused loads are the expected resource errors of this step.
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !/status of 502/.test(e)));
  });

  await t.test('an audit service that hangs is said within seconds, not after the 120 s integrity timeout; so is a console that does not answer', async (t) => {
    // Accepts connections and never answers, as an audit service stopped with SIGSTOP does.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => {
      silent.closeAllConnections();
      silent.close();
    });
    const hung = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, runner: bus.runner!.url } });
    t.teardown(() => hung.stop());
    await page.goto(hung.url);
    await page.fill('#client-id', 'lgsp-operator');
    await page.fill('#client-secret', bus.clients.get('lgsp-operator')!.clientSecret!);
    await page.click('#login-form button[type=submit]');
    await page.locator('#app-view').waitFor({ state: 'visible' });
    const started = Date.now();
    await page.click('.tabs button[data-tab="audit"]');
    const integrity = page.locator('#integrity-body .load-error');
    await integrity.waitFor({ timeout: 10_000 });
    t.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
    t.match(await integrity.textContent(), /^Lỗi: Dịch vụ liên quan không phản hồi — The audit service is not answering .*\(UPSTREAM_UNAVAILABLE\)$/);
    await page.locator('#audit-results .load-error').waitFor({ timeout: 10_000 });
    t.match(await page.locator('#audit-results').textContent(), /audit service is not answering/, 'the trail search too');
    // Checking again gives the same answer as quickly; the other views meanwhile still work.
    const again = Date.now();
    await page.click('#integrity-check');
    await page.locator('.tabs button[data-tab="connectors"]').click();
    await page.locator('#connector-table tbody tr[data-connector="relay"]').waitFor();
    await page.locator('.tabs button[data-tab="audit"]').click();
    await page.locator('#integrity-body .load-error').waitFor({ timeout: 10_000 });
    t.ok(Date.now() - again < 10_000, `checked again in ${Date.now() - again} ms`);

    // The console itself not answering (hung, or a proxy holding the request) is said too, not
    // waited for with the earlier rows on screen; nor is a refused connection left in the
    // browser's words.
    await page.clock.install();
    await page.route(/\/v1\/console\/messages\?/, () => undefined);
    await page.click('.tabs button[data-tab="messages"]');
    await page.click('#message-search button[type=submit]');
    await page.clock.fastForward(45_000);
    await page.locator('#message-results .load-error').waitFor();
    t.match(await page.locator('#message-results').textContent(), /^Lỗi: Bảng điều khiển không phản hồi .* — no answer within 40 s \(CONSOLE_UNREACHABLE\)$/);
    await page.unroute(/\/v1\/console\/messages\?/);
    await page.route(/\/v1\/console\/dead-letters\?/, (route) => route.abort('connectionrefused'));
    await page.click('.tabs button[data-tab="dead-letters"]');
    await page.locator('#dlq-results .load-error').waitFor();
    t.match(await page.locator('#dlq-results').textContent(), /^Lỗi: Bảng điều khiển không phản hồi .*\(CONSOLE_UNREACHABLE\)$/);
    await page.unroute(/\/v1\/console\/dead-letters\?/);

    // Off this console before it stops, so its live stream does not try to reconnect.
    await page.goto('about:blank');
    consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !/status of 502|ERR_CONNECTION_REFUSED|ERR_FAILED/.test(e)));
  });

  t.same(consoleErrors, [], 'no console errors');
});
