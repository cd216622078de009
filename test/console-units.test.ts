// The console's pure parts without Kafka: business facts from status details, the message index
// under out-of-order and redelivered events, the live window, the replay claim, CSV escaping.
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import type { BusEvent, BusEventName } from '../services/platform/bus-events.js';
import { businessFacts, businessStatusForms, DOSSIER_STATUS_LABELS, EDOC_STATUS_LABELS, familyOf, normaliseStatusCode, parseBusinessTime, TRANSPORT_STATUS_LABELS } from '../services/console/business-status.js';
import { ConsoleStore } from '../services/console/console-store.js';
import { WAITING_BY_CONNECTOR } from '../services/console/dead-letter-store.js';
import { openTestDatabase } from './helpers/test-database.js';
import { planWithoutSeqScan } from './helpers/query-plan.js';
import { FlowMonitor } from '../services/console/flow-monitor.js';
import { buildKpiReport, kpiCsv, type KpiReport } from '../services/console/kpi-report.js';
import { nfcFilters } from '../services/console/routes/query-schemas.js';
import type { FastifyReply } from 'fastify';
import type { Database } from '../services/platform/database.js';
import type { Logger } from '../services/platform/logger.js';
import type { LagMonitor } from '../services/console/consumer-lag.js';
import type { MessageIndex } from '../services/console/message-index.js';
import { followIndex } from '../services/console/index-follower.js';
import { LiveFeed } from '../services/console/live-feed.js';

const event = (name: BusEventName, messageId: string, at: string, extra: Partial<BusEvent> = {}): BusEvent => ({
  id: uuidv7(),
  event: name,
  at,
  actor: 'test',
  messageId,
  type: 'edoc.send',
  from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' },
  to: { member: '000.00.15.H49', service: 'document-exchange' },
  correlationId: 'doc-1',
  ...extra,
});


/** A console store on a database of its own (dropped at teardown). */
async function consoleStore(t: { teardown(fn: () => unknown): void }): Promise<ConsoleStore> {
  const db = await openTestDatabase(t, 'console-units');
  return ConsoleStore.open(db);
}

t.test('business facts', async (t) => {
  t.equal(familyOf('edoc.send'), 'edoc');
  t.equal(familyOf('plain'), 'plain');
  t.equal(parseBusinessTime('20260110170000'), '2026-01-10T10:00:00.000Z', 'DVCQG dates are Vietnam time');
  t.equal(parseBusinessTime('2026-01-10T17:00:00+07:00'), '2026-01-10T10:00:00.000Z');
  t.equal(parseBusinessTime('2026-01-10'), '2026-01-09T17:00:00.000Z', 'a bare date is local midnight');
  t.equal(parseBusinessTime('10/01/2026'), null);
  t.equal(parseBusinessTime(20260110), null);
  t.same(businessFacts({ TrangThaiHoSo: 10, NgayHenTra: '20260110170000', NgayTra: '20260111080000' }), {
    status: '10', dueAt: '2026-01-10T10:00:00.000Z', finishedAt: '2026-01-11T01:00:00.000Z', onTime: false,
  });
  t.equal(businessFacts({ status: 'returned', onTime: true, dueAt: '2026-01-01', returnedAt: '2026-02-01' }).onTime, true, 'an explicit flag wins');
  t.same(businessFacts({ httpStatus: 200 }), { status: null, dueAt: null, finishedAt: null, onTime: null }, 'a plain receipt is no business status');
  t.equal(normaliseStatusCode('edoc', '3'), '03');
  t.equal(normaliseStatusCode('dossier', '04'), '4');
  t.equal(normaliseStatusCode('dossier', 'returned'), '10');
  t.equal(normaliseStatusCode('edoc', 'custom'), 'custom');
});

t.test('the message index tolerates out-of-order and redelivered events', async (t) => {
  const store = await consoleStore(t);
  const id = uuidv7();
  const delivered = event('delivered', id, '2026-01-05T02:00:02.000Z', { detail: { attempt: 2, httpStatus: 200 } });
  const changed = await store.messages.applyEvents([delivered]);
  t.same([...changed], [id], 'a message first seen by its delivery is indexed');
  await store.messages.applyEvents([
    event('accepted', id, '2026-01-05T02:00:00.000Z'),
    event('delivery_failed', id, '2026-01-05T02:00:01.000Z', { detail: { attempt: 1, reason: 'HTTP 503' } }),
  ]);
  t.equal((await store.messages.applyEvents([delivered])).size, 0, 'a redelivered event changes nothing');
  const row = (await store.messages.get(id))!;
  t.match(row, { status: 'delivered', acceptedAt: '2026-01-05T02:00:00.000Z', deliveredAt: '2026-01-05T02:00:02.000Z', attempts: 1, lastReason: 'HTTP 503', family: 'edoc' });
  t.same((await store.messages.timeline(id)).map((e) => e.event), ['accepted', 'delivery_failed', 'delivered'], 'timeline in event time order');
  await store.messages.applyEvents([event('status', id, '2026-01-05T03:00:00.000Z', { detail: { statusCode: '06' } }), event('status', id, '2026-01-05T02:30:00.000Z', { detail: { statusCode: '03' } })]);
  t.equal((await store.messages.get(id))!.businessStatus, '06', 'the latest business status by time, not arrival');
  t.equal((await store.messages.search({ businessStatus: '06' })).items.length, 1, 'search by business status');
  t.equal((await store.messages.search({ status: '06' })).items.length, 1, 'a business code in status is read as businessStatus');
  t.equal((await store.messages.search({ status: 'delivered', businessStatus: '03' })).items.length, 0, 'both filters apply');
  t.equal((await store.messages.search({ type: 'edoc.*' })).items.length, 1, 'search by family');
  t.equal((await store.messages.search({ type: 'edoc' })).items.length, 0, 'a bare word is an exact type');
});

t.test('a batch of events leaves the same rows as the same events one at a time', async (t) => {
  // The index folds a batch's events per message into two statements; applied one by one, in
  // the same arrival order, they must leave every column the same.
  const batched = await consoleStore(t);
  const single = await consoleStore(t);
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const at = (s: number) => new Date(Date.UTC(2026, 0, 5, 2, 0, s)).toISOString();
  const events: BusEvent[] = [];
  const ids: string[] = [];
  for (let m = 0; m < 12; m++) {
    const id = uuidv7();
    ids.push(id);
    const base = m * 30;
    events.push(event('accepted', id, at(base)));
    events.push(event('delivery_failed', id, at(base + 2), { detail: { attempt: 1, reason: `HTTP 50${m % 4}`, connector: 'relay' } }));
    if (m % 3 === 0) events.push(event('delivery_failed', id, at(base + 4), { detail: { attempt: 2, reason: 'timeout', connector: 'relay' } }));
    if (m % 4 === 1) events.push(event('dead_lettered', id, at(base + 6), { detail: { attempts: 3, reason: 'gave up', connector: 'dlq-keeper' } }));
    else events.push(event('delivered', id, at(base + 6), { detail: { attempt: 2, connector: 'dossier', TrangThaiHoSo: 2, NgayHenTra: '20260110170000' } }));
    if (m % 2 === 0) events.push(event('status', id, at(base + 9), { detail: { statusCode: '06', finishedAt: '2026-01-09' } }));
    if (m % 2 === 0) events.push(event('status', id, at(base + 8), { detail: { statusCode: '03', onTime: true } }));
  }
  // Arrival order shuffled: out of time order within and across messages.
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  // A redelivered event inside the batch (same id twice) counts once.
  await batched.messages.applyEvents([...events.slice(0, 20), events[3], ...events.slice(20)]);
  for (const ev of events) await single.messages.applyEvents([ev]);
  for (const id of ids) {
    const [a, b] = [await batched.messages.get(id), await single.messages.get(id)];
    t.same(a, b, `message ${ids.indexOf(id)}: same row`);
  }
  const kpiA = await batched.messages.kpiRows('2026-01-01', '2026-02-01');
  t.same(kpiA, await single.messages.kpiRows('2026-01-01', '2026-02-01'), 'same KPI rows');
  t.ok(kpiA.some((r) => r.businessStatus === '06' && r.onTime === 1 && r.finishedAt) && kpiA.some((r) => r.status === 'dead_lettered'), 'the rows carry what the events said');
});

t.test('search pages with a cursor', async (t) => {
  const store = await consoleStore(t);
  for (let i = 0; i < 5; i++) await store.messages.applyEvents([event('accepted', uuidv7(), `2026-01-05T02:00:0${i}.000Z`, { correlationId: `c${i}` })]);
  const first = await store.messages.search({ limit: 2 });
  t.same(first.items.map((m) => m.correlationId), ['c4', 'c3']);
  const second = await store.messages.search({ limit: 2, before: first.nextBefore! });
  t.same(second.items.map((m) => m.correlationId), ['c2', 'c1']);
  const last = await store.messages.search({ limit: 2, before: second.nextBefore! });
  t.same(last.items.map((m) => m.correlationId), ['c0']);
  t.equal(last.nextBefore, null);
});

t.test('the index\'s size is counted while small and estimated when large (no count(*) over a big table)', async (t) => {
  const db = await openTestDatabase(t, 'console-units');
  const store = await ConsoleStore.open(db);
  for (let i = 0; i < 3; i++) await store.messages.applyEvents([event('accepted', uuidv7(), `2026-01-05T02:00:0${i}.000Z`)]);
  t.same(await store.messages.size(), { messages: 3, estimated: false }, 'a small index is counted');
  await db.query(
    `INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id, last_event_at)
     SELECT 'bulk-' || g, 'edoc.send', 'edoc', '000.00.12.H49', 'so-tttt-qlvb', '000.00.15.H49', 'document-exchange', 'c-' || g, '2026-01-05T03:00:00.000Z'
       FROM generate_series(1, 120000) g`,
  );
  await db.query('ANALYZE console_messages');
  const large = await store.messages.size();
  t.equal(large.estimated, true, 'a large index is estimated');
  t.ok(Math.abs(large.messages - 120_003) < 12_000, `the estimate is near the real size (${large.messages} for 120,003)`);
});

t.test('the dead letters waiting per connector are counted from their own index, not the whole table', async (t) => {
  const db = await openTestDatabase(t, 'console-units');
  await ConsoleStore.open(db);
  t.match(await planWithoutSeqScan(db, WAITING_BY_CONNECTOR), /"Index Name":"console_dead_letters_waiting"/, 'lgsp_dlq_depth reads the waiting dead letters\' index');
});

t.test('a business status code has one form per way a connector reports it, per family', async (t) => {
  t.same(businessStatusForms('edoc', '6').sort(), ['06', '6']);
  t.same(businessStatusForms('dossier', '02').sort(), ['02', '2', 'accepted']);
  t.same(businessStatusForms('dossier', 'returned').sort(), ['10', 'returned']);
  t.same(businessStatusForms('edoc', 'accepted'), ['accepted'], 'a dossier status name is no edoc code');
  t.same(businessStatusForms('dossier', 'đang xử lý'), ['đang xử lý'], 'text that is no code stands for itself');
  for (const [family, code] of [['edoc', '06'], ['dossier', '2'], ['dossier', '10'], ['notice', '7']]) {
    for (const form of businessStatusForms(family, code)) t.equal(normaliseStatusCode(family, form), normaliseStatusCode(family, code), `${family} ${form} reads as ${code}`);
  }
});

t.test('message search: status is the transport status, businessStatus a code in any reported form', async (t) => {
  const store = await consoleStore(t);
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const [waiting, dossierByName, dossierByCode, doc] = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
  const dossier = (correlationId: string) => ({ type: 'dossier.sync', to: { member: '000.00.00.G22', service: 'dvcqg-dossier' }, correlationId });
  await store.messages.applyEvents([
    event('accepted', waiting, at(0), { correlationId: 'doc-waiting' }),
    // Delivered, and the portal answered with the dossier status name "accepted" (TrangThaiHoSo 2).
    event('accepted', dossierByName, at(1), dossier('HS-1')),
    event('delivered', dossierByName, at(2), { ...dossier('HS-1'), detail: { status: 'accepted' } }),
    // Not delivered yet, with the same business status as a code.
    event('accepted', dossierByCode, at(3), dossier('HS-2')),
    event('status', dossierByCode, at(4), { ...dossier('HS-2'), detail: { TrangThaiHoSo: 2 } }),
    event('accepted', doc, at(5), { correlationId: 'doc-2' }),
    event('delivered', doc, at(6), { correlationId: 'doc-2', detail: { statusCode: '6' } }),
  ]);
  const ids = async (q: Parameters<typeof store.messages.search>[0]) => (await store.messages.search(q)).items.map((m) => m.id).sort();
  t.same(await ids({ status: 'accepted' }), [waiting, dossierByCode].sort(), 'not the delivered dossier whose business status is "accepted"');
  t.same(await ids({ status: 'delivered' }), [dossierByName, doc].sort());
  for (const code of ['2', '02', 'accepted']) t.same(await ids({ businessStatus: code }), [dossierByName, dossierByCode].sort(), `businessStatus=${code}: both dossiers, not the document`);
  for (const code of ['06', '6']) t.same(await ids({ businessStatus: code }), [doc], `businessStatus=${code}: the document reported as 6`);
  t.same(await ids({ businessStatus: '4' }), [], 'a status nothing has');
  t.same(await ids({ status: 'accepted', businessStatus: '2' }), [dossierByCode], 'the two filters combine');
});

t.test('search filters are NFC, as everything stored is', async (t) => {
  const nfc = 'Báo cáo tuần/Sở Tư pháp';
  const nfd = nfc.normalize('NFD');
  t.not(nfd, nfc, 'the input really is decomposed');
  t.same(nfcFilters({ q: nfd, member: [nfd, 'x'], limit: 5, replayed: false }), { q: nfc, member: [nfc, 'x'], limit: 5, replayed: false });
});

t.test('a dead letter can be claimed for replay once', async (t) => {
  const store = await consoleStore(t);
  const add = (offset: string) =>
    store.deadLetters.add({
      topic: 'lgsp.dlq.relay', partition: 0, offset, connector: 'relay', messageId: 'm1', reason: 'receiver answered HTTP 422', attempts: 1,
      originTopic: 'lgsp.msg.notice', failedAt: '2026-01-05T02:00:00.000Z', key: 'k', value: Buffer.from('{}'), signature: { 'lgsp-sig': 'x', 'lgsp-proof': '0/1:' },
      verified: true, verifyReason: null, envelope: { type: 'notice.send', to: { member: 'A', service: 'notice' } },
    });
  t.equal(await add('0'), true);
  t.equal(await add('0'), false, 'a redelivered dead letter is stored once');
  const [dl] = (await store.deadLetters.search({})).items;
  t.equal(await store.deadLetters.claimReplay(dl.id), true);
  t.equal(await store.deadLetters.claimReplay(dl.id), false, 'a second claim (double click, second operator) fails');
  await store.deadLetters.releaseReplay(dl.id);
  t.equal(await store.deadLetters.claimReplay(dl.id), true, 'a failed produce releases the claim');
  await store.deadLetters.completeReplay(dl.id, 'lgsp-operator');
  const done = (await store.deadLetters.get(dl.id))!;
  t.match(done, { replayedBy: 'lgsp-operator', value: null }, 'the raw record is dropped once replayed');
  t.equal((await store.deadLetters.depthByConnector()).get('relay'), undefined);
  t.same(await store.deadLetters.replayCandidates({ connector: 'relay' }, 10), []);
});

t.test('the live window counts recent events only', async (t) => {
  let now = Date.parse('2026-01-05T02:00:30.000Z');
  const monitor = new FlowMonitor(() => now);
  const at = (s: number) => new Date(now - s * 1000).toISOString();
  monitor.record([
    event('accepted', 'a', at(2), { type: 'notice.send', to: { member: 'B', service: 'notice' } }),
    event('delivered', 'a', at(1), { to: { member: 'B', service: 'notice' } }),
    event('dead_lettered', 'b', at(3)),
    event('accepted', 'old', at(3600)),
  ]);
  let snap = monitor.snapshot();
  t.same(snap.lastMinute, { accepted: 1, delivered: 1, dead_lettered: 1 }, 'an hour-old event is history, not live traffic');
  t.same(snap.rates, { accepted: 0.1, delivered: 0.1, errors: 0.1 });
  t.equal(snap.series.accepted.length, 60);
  t.match(snap.services.find((s) => s.service === 'notice'), { accepted: 1, delivered: 1 });
  now += 61_000;
  snap = monitor.snapshot();
  t.same(snap.lastMinute, {}, 'the window moves on');
});

t.test('KPI CSV escapes cells and neutralises formulas', async (t) => {
  const store = await consoleStore(t);
  const id = uuidv7();
  const sender = { member: '=HYPERLINK("x")', system: 's' };
  await store.messages.applyEvents([event('accepted', id, new Date().toISOString(), { from: sender })]);
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 31 * 3600_000).toISOString().slice(0, 10);
  const report = await buildKpiReport(store.messages, [{ code: sender.member, name: 'Sở "A", B' }], { from: today, to: tomorrow });
  t.equal(report.total.documents.sent, 1);
  const csv = kpiCsv(report, 'en');
  const row = csv.split('\r\n')[1];
  t.match(row, /^"'=HYPERLINK\(""x""\)","Sở ""A"", B",/, 'quotes doubled, formula prefixed with an apostrophe');
  // A formula that starts like a negative number, or behind a tab, is still a formula.
  const names = [`-1+cmd|' /C calc'!A0`, '\t=1+1', '-2'];
  const codes = names.map((_, i) => `000.00.9${i}.H49`);
  for (const member of codes) await store.messages.applyEvents([event('accepted', uuidv7(), new Date().toISOString(), { from: { member, system: 's' } })]);
  const more = await buildKpiReport(store.messages, names.map((name, i) => ({ code: codes[i], name })), { from: today, to: tomorrow });
  const rows = kpiCsv(more, 'en').split('\r\n');
  const cells = codes.map((code) => rows.find((line) => line.startsWith(`${code},`))?.split(',')[1]);
  t.same(cells, [`'-1+cmd|' /C calc'!A0`, `'\t=1+1`, '-2'], 'prefixed, but a plain negative number is left as it is');
});

t.test('KPI CSV: a column per status, the same columns whatever the figures', async (t) => {
  const period = { from: '2026-12-01', to: '2026-12-02', timeZone: 'Asia/Ho_Chi_Minh' };
  const documents = { sent: 4, delivered: 4, failed: 0, received: 4, electronicRate: 1, statuses: { '06': 3, '03': 1 } };
  const dossiers = { dossiers: 2, synced: 2, syncRate: 1, onTime: 1, late: 0, onTimeRate: 1, statuses: { '10': 1, delivered: 1, 'X-LOCAL': 2 } };
  const empty = { sent: 0, delivered: 0, failed: 0, received: 0, electronicRate: null, statuses: {} };
  const noDossiers = { dossiers: 0, synced: 0, syncRate: null, onTime: 0, late: 0, onTimeRate: null, statuses: {} };
  const statusLabels = { documents: { ...EDOC_STATUS_LABELS, ...TRANSPORT_STATUS_LABELS }, dossiers: { ...DOSSIER_STATUS_LABELS, ...TRANSPORT_STATUS_LABELS } };
  const filled: KpiReport = { period, generatedAt: '2026-12-02T00:00:00.000Z', member: null, statusLabels, agencies: [{ member: '000.00.15.H49', name: 'Sở A', documents, dossiers }, { member: '000.00.24.H49', name: 'Sở B', documents: empty, dossiers: noDossiers }], total: { documents, dossiers } };
  // Cells as RFC 4180 reads them: a label with a comma ("Đã đến, chờ tiếp nhận") is quoted.
  const cells = (line: string) => line.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((cell) => cell.replace(/^"|"$/g, '').replace(/""/g, '"'));
  const rows = kpiCsv(filled, 'vi').replace(/^\uFEFF/, '').trim().split('\r\n').map(cells);
  const header = rows[0];
  t.equal(new Set(header).size, header.length, 'no two columns named alike');
  t.ok(rows.every((row) => row.length === header.length), 'every row has every column');
  const cell = (row: string[], name: string) => row[header.indexOf(name)];
  const [a, b] = [rows[1], rows[2]];
  t.equal(cell(a, 'Văn bản: Hoàn thành (06)'), '3', 'documents completed');
  t.equal(cell(a, 'Văn bản: Đã tiếp nhận (03)'), '1', 'documents received');
  t.equal(cell(a, 'Văn bản: Từ chối tiếp nhận (02)'), '0', 'a status without messages is 0, not empty');
  t.equal(cell(a, 'Hồ sơ: Đã trả kết quả (10)'), '1', 'dossiers with their result returned');
  t.equal(cell(a, 'Hồ sơ: Đã chuyển đến'), '1', 'a dossier with a transport status only');
  t.equal(cell(a, 'Hồ sơ: trạng thái khác'), 'X-LOCAL: 2', 'a code without a label is kept, in its own column');
  t.equal(cell(b, 'Văn bản: Hoàn thành (06)'), '0', 'an agency without traffic has the same columns, at 0');
  t.equal(cell(b, 'Hồ sơ: trạng thái khác'), '', 'and nothing other');
  const en = cells(kpiCsv(filled, 'en').replace(/^\uFEFF/, '').split('\r\n')[0]);
  t.same(header.slice(9, 12), ['Văn bản: Đã đến, chờ tiếp nhận (01)', 'Văn bản: Từ chối tiếp nhận (02)', 'Văn bản: Đã tiếp nhận (03)'], 'codes in their order, 01 first');
  t.ok(en.includes('Documents: Completed (06)') && en.includes('Dossiers: other statuses'), 'English headers');
  t.equal(en.length, header.length, 'the same columns in either language');
});

t.test('KPI dossier threads are per sender: another agency reusing a correlation id does not join', async (t) => {
  const store = await consoleStore(t);
  const a = { member: '000.00.15.H49', system: 'so-tp-motcua' };
  const b = { member: '000.00.24.H49', system: 'so-khdt-motcua' };
  const portal = { member: '000.00.00.G22', service: 'dvcqg-dossier' };
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const [ma, mb] = [uuidv7(), uuidv7()];
  const common = { type: 'dossier.sync', to: portal, correlationId: 'HS-0001' };
  await store.messages.applyEvents([
    event('accepted', ma, at(0), { ...common, from: a }),
    event('delivered', ma, at(1), { ...common, from: a, detail: { status: '4' } }),
    event('accepted', mb, at(2), { ...common, from: b }),
    event('delivered', mb, at(3), { ...common, from: b, detail: { status: '10' } }),
  ]);
  const today = new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
  const tomorrow = new Date(now + 31 * 3600_000).toISOString().slice(0, 10);
  const report = await buildKpiReport(store.messages, [], { from: today, to: tomorrow });
  t.equal(report.total.dossiers.dossiers, 2, 'two dossiers, one per sender');
  const byMember = Object.fromEntries(report.agencies.map((x) => [x.member, x.dossiers.statuses]));
  t.same(byMember[a.member], { '4': 1 }, "A's dossier keeps its own status");
  t.same(byMember[b.member], { '10': 1 }, "B's status does not count in A's dossier");
});

t.test('KPI: a dossier filed online (portal → agency) and its progress (agency → portal) are one dossier of the agency', async (t) => {
  const store = await consoleStore(t);
  const agencySystem = { member: '000.00.24.H49', system: 'so-khdt-motcua' };
  const portalSystem = { member: '000.00.00.G22', system: 'dvcqg-portal' };
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const [filed, progress, onlyFiled] = [uuidv7(), uuidv7(), uuidv7()];
  const submitted = { type: 'dossier.submitted', from: portalSystem, to: { member: agencySystem.member, service: 'dossier-intake' }, correlationId: 'HS-ONLINE-1' };
  const progressed = { type: 'dossier.progress', from: agencySystem, to: { member: portalSystem.member, service: 'dvcqg-dossier' }, correlationId: 'HS-ONLINE-1' };
  await store.messages.applyEvents([
    event('accepted', filed, at(0), submitted),
    event('delivered', filed, at(1), submitted),
    event('accepted', progress, at(2), progressed),
    event('delivered', progress, at(3), { ...progressed, detail: { status: '10' } }),
    event('accepted', onlyFiled, at(4), { ...submitted, correlationId: 'HS-ONLINE-2' }),
    event('delivered', onlyFiled, at(5), { ...submitted, correlationId: 'HS-ONLINE-2' }),
  ]);
  const today = new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
  const tomorrow = new Date(now + 31 * 3600_000).toISOString().slice(0, 10);
  const report = await buildKpiReport(store.messages, [], { from: today, to: tomorrow });
  t.equal(report.total.dossiers.dossiers, 2, 'two dossiers, not three');
  t.notOk(report.agencies.some((x) => x.member === portalSystem.member && x.dossiers.dossiers > 0), 'none counted for the portal');
  const mine = report.agencies.find((x) => x.member === agencySystem.member)!.dossiers;
  t.equal(mine.dossiers, 2);
  t.equal(mine.synced, 1, 'synced: the one whose progress reached the portal, not the filing that came from it');
  t.same(mine.statuses, { '10': 1, delivered: 1 }, 'the progressed dossier has its portal status');
});

t.test('KPI filtered to one agency: the total is that agency\'s, and the CSV says so', async (t) => {
  const store = await consoleStore(t);
  const now = Date.now();
  const at = (s: number) => new Date(now + s * 1000).toISOString();
  const a = { member: '000.00.12.H49', system: 'so-tttt-qlvb' };
  const b = { member: '000.00.24.H49', system: 'so-khdt-qlvb' };
  const [m1, m2, m3] = [uuidv7(), uuidv7(), uuidv7()];
  await store.messages.applyEvents([
    event('accepted', m1, at(0), { from: a, correlationId: 'doc-a1' }),
    event('delivered', m1, at(1), { from: a, correlationId: 'doc-a1' }),
    event('accepted', m2, at(2), { from: b, correlationId: 'doc-b1' }),
    event('accepted', m3, at(3), { from: b, correlationId: 'doc-b2' }),
  ]);
  const today = new Date(now + 7 * 3600_000).toISOString().slice(0, 10);
  const tomorrow = new Date(now + 31 * 3600_000).toISOString().slice(0, 10);
  const members = [{ code: a.member, name: 'Sở A' }, { code: b.member, name: 'Sở B' }];
  const province = await buildKpiReport(store.messages, members, { from: today, to: tomorrow });
  t.equal(province.member, null);
  t.equal(province.total.documents.sent, 3, 'unfiltered: the whole province');
  t.match(kpiCsv(province, 'en').trim().split('\r\n').at(-1), /^,Province total,[^,]*,[^,]*,3,1,0,3,33\.3,/);

  const one = await buildKpiReport(store.messages, members, { from: today, to: tomorrow }, b.member);
  t.equal(one.member, b.member);
  t.same(one.agencies.map((x) => x.member), [b.member]);
  t.same(one.total, { documents: one.agencies[0].documents, dossiers: one.agencies[0].dossiers }, 'the total is the one agency\'s');
  t.match(one.total.documents, { sent: 2, delivered: 0, electronicRate: 0 });
  const lines = (lang: 'vi' | 'en') => kpiCsv(one, lang).trim().split('\r\n');
  t.match(lines('en').at(-1), /^,Total for 000\.00\.24\.H49,[^,]*,[^,]*,2,0,0,0,0\.0,/, 'labelled as the agency\'s, with its figures');
  t.match(lines('vi').at(-1), /^,Tổng của 000\.00\.24\.H49,/);
  t.notOk(lines('vi').some((l) => l.includes('Toàn tỉnh')), 'no province total in an export for one agency');

  const nobody = await buildKpiReport(store.messages, members, { from: today, to: tomorrow }, '000.00.99.H49');
  t.match(nobody.total, { documents: { sent: 0, electronicRate: null }, dossiers: { dossiers: 0 } }, 'an agency without traffic has zeros, not the province\'s figures');
});

t.test('the live view says when its figures are not current: the message index cannot be read', async (t) => {
  const log = { warn: () => undefined } as unknown as Logger;
  let hang = false;
  // Answers (no new rows) until told to hang, as a PostgreSQL stopped with SIGSTOP does.
  const db = { query: async () => (hang ? new Promise<never>(() => undefined) : { rows: [{ seq: null }] }) } as unknown as Database;
  const follower = await followIndex({ db, log, intervalMs: 20, staleMs: 300, onEvents: () => undefined, onChanged: () => undefined });
  t.teardown(() => follower.stop());
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(100);
  t.match(follower.health(), { ok: true }, 'read every poll');

  // The feed keeps sending figures every tick while a read of the index hangs, saying so.
  const frames: string[] = [];
  const reply = { getHeaders: () => ({}), hijack: () => undefined, raw: { writeHead: () => undefined, write: (s: string) => frames.push(s), on: () => undefined, end: () => undefined } } as unknown as FastifyReply;
  const feed = new LiveFeed(new FlowMonitor(), { lags: [] } as unknown as LagMonitor, { get: () => new Promise(() => undefined) } as unknown as MessageIndex, 50, () => follower.health());
  t.teardown(() => feed.close());
  feed.attach(reply);
  feed.messagesChanged(new Set(['m1']));
  hang = true;
  await sleep(600);
  const ticks = frames.filter((f) => f.startsWith('event: tick')).map((f) => JSON.parse(f.split('data: ')[1]) as { index: { ok: boolean; lastReadAt: string; detail?: string } });
  t.ok(ticks.length >= 5, `${ticks.length} ticks sent while the index read hangs`);
  t.match(ticks[0].index, { ok: true }, 'the first figures are current');
  const last = ticks.at(-1)!.index;
  t.match(last, { ok: false, detail: /no answer from PostgreSQL/ }, 'then they are said not to be');
  t.ok(Date.now() - Date.parse(last.lastReadAt) >= 300, 'since when');

  // A database that refuses is said at once, with its reason.
  const refused = await followIndex({ db: { query: async (sql: string) => (sql.includes('max(seq)') ? { rows: [{ seq: '0' }] } : Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'))) } as unknown as Database, log, intervalMs: 20, onEvents: () => undefined, onChanged: () => undefined });
  t.teardown(() => refused.stop());
  await sleep(100);
  t.match(refused.health(), { ok: false, detail: /ECONNREFUSED/ }, 'a refusal is said at once');
});
