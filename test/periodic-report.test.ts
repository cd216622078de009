// The periodic-report connector on the SDK harness against the reporting system simulator
// (in-process, no Kafka): every schema example is forwarded and answered with a receipt that
// comes back as a status event; lateness against the due date; the same message always gets
// the same receipt, a new submission for the same period is a new revision; refusals are
// permanent with codes and field names only; an outage is retried; the API key is a secret
// that is required, sent, and never shows in errors; the simulator checks the bus signature.
import t, { type Test } from 'tap';
import periodicReport from '../connectors/periodic-report/index.js';
import { testConnector, type ConnectorHarness } from '@lgsp/sdk/testing';
import { buildReportingSimulator, type ReportingState } from '../services/reporting-simulator/reporting-app.js';
import type { PeriodicReportConfig } from '../connectors/periodic-report/index.js';

/** A report.submit example: figures by name, the rest as the schema has it. */
type ReportExample = Record<string, unknown> & { figures: Record<string, number> };

const manifest = new URL('../connectors/periodic-report/connector.json', import.meta.url);
const API_KEY = 'reporting-test-key-0001';
// 3 April 2026, 10:00 in Hà Nội: March's procedures report (due 5 April) is on time, the 2025
// digital transformation report (due 15 January 2026) is late.
const NOW = new Date('2026-04-03T03:00:00Z');

async function setup(t: Test, apiKey = API_KEY, extraKeys: ConnectorHarness<PeriodicReportConfig>[] = []): Promise<{ harness: ConnectorHarness<PeriodicReportConfig>; state: ReportingState; url: string }> {
  let harness: ConnectorHarness<PeriodicReportConfig> | undefined;
  const { app, state } = await buildReportingSimulator({
    apiKey: API_KEY,
    // The simulator checks the detached signature with the key the harness signs with.
    verificationKeys: async (header) => [harness!, ...extraKeys].find((h) => h.signingKeyId === header.kid)?.publicKey ?? harness!.publicKey,
    now: () => NOW,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  harness = await testConnector(periodicReport, {
    manifest,
    secrets: { apiKey },
    service: { code: 'periodic-report', provider: '000.00.00.H49', system: 'vp-ubnd-baocao', endpoint: url },
    from: { member: '000.00.15.H49', system: 'so-tp-qlvb' },
  });
  t.teardown(() => harness!.stop());
  return { harness, state, url };
}

t.test('every example report is forwarded and answered with a receipt', async (t) => {
  const { harness, state } = await setup(t);
  const outcomes = await harness.sendExamples('report.submit');
  t.equal(outcomes.length, 3, 'one example per report type');
  for (const o of outcomes) t.equal(o.outcome, 'delivered', o.error?.message ?? 'delivered');
  t.equal(state.reports.length, 3);

  const [monthly, quarterly, yearly] = outcomes;
  t.match(monthly.statuses[0], { receipt: /^BC-H49-2026-\d{6}$/, reportType: 'tthc-thang', period: '2026-03', dueDate: '2026-04-05', onTime: true, daysLate: 0, revision: 1 });
  t.match(monthly.detail, { receipt: monthly.statuses[0].receipt, onTime: true });
  t.match(quarterly.statuses[0], { reportType: 'cchc-quy', onTime: true });
  t.match(yearly.statuses[0], { reportType: 'cds-nam', onTime: false, daysLate: 78 }, 'the yearly report is 78 days past its due date');
  t.not(monthly.statuses[0].receipt, quarterly.statuses[0].receipt);

  const stored = state.reports[0];
  t.match(stored, { agency: '000.00.15.H49', system: 'so-tp-qlvb', reportType: 'tthc-thang', period: '2026-03', messageId: monthly.envelope.id });
  t.same(stored.figures, harness.examples('report.submit')[0].figures, 'the figures arrive as sent');
  const request = harness.deliveries[0].request;
  t.equal(request.headers?.['x-api-key'], API_KEY, 'the API key travels as X-API-Key');
  t.match(request.url, /\/api\/v1\/bao-cao$/, 'the default submit path on the registry endpoint');

  t.equal(harness.metrics.value('reports_submitted_total', { report_type: 'tthc-thang', on_time: 'true' }), 1);
  t.equal(harness.metrics.value('reports_submitted_total', { report_type: 'cds-nam', on_time: 'false' }), 1);
  t.equal(harness.metrics.observations('reporting_system_seconds').length, 3);
  t.match((await harness.health()).detail, /reports forwarded/);
  t.ok(harness.logs.some((l) => l.msg === 'report submitted after its due date'), 'a late report is logged (without its content)');
  t.notMatch(JSON.stringify(harness.logs), /Báo cáo|figures|412/, 'no report content in the log');
});

t.test('the same message gets the same receipt; a resubmission is a new revision', async (t) => {
  const { harness, state } = await setup(t);
  const [example] = harness.examples<ReportExample>('report.submit');
  const first = await harness.send('report.submit', example);
  const again = await harness.handle(first.envelope, 2);
  t.equal(again.outcome, 'delivered', 'a redelivery (after a lost acknowledgement) succeeds');
  t.equal(again.statuses[0].receipt, first.statuses[0].receipt, 'with the same receipt');
  t.equal(state.reports.length, 1, 'and is stored once');
  const revised = await harness.send('report.submit', { ...example, figures: { ...example.figures, inProgress: 17 } });
  t.match(revised.statuses[0], { revision: 2 });
  t.not(revised.statuses[0].receipt, first.statuses[0].receipt);
});

t.test('refusals are permanent and name codes and fields, never content', async (t) => {
  const { harness, state } = await setup(t);
  const [monthly, , yearly] = harness.examples<ReportExample>('report.submit');
  const inconsistent = await harness.send('report.submit', { ...monthly, figures: { ...monthly.figures, onlineReceived: 9999 } });
  t.equal(inconsistent.outcome, 'dead_lettered');
  t.equal(inconsistent.error?.message, 'the reporting system refused the report: SO_LIEU_KHONG_KHOP (soLieu.onlineReceived)');
  const early = await harness.send('report.submit', { ...yearly, dueDate: '2024-12-31' });
  t.equal(early.error?.message, 'the reporting system refused the report: HAN_NOP_KHONG_HOP_LE (hanNop)', 'a due date before the period');
  t.equal(state.reports.length, 0, 'nothing stored');
  t.equal(harness.metrics.value('reports_refused_total', { report_type: 'tthc-thang' }), 1);
  await t.rejects(harness.send('report.submit', { ...monthly, period: '2026-Q1' }), /would be refused by the gateway: \/period must match pattern/, 'the schema ties the period to the report type');
  await t.rejects(harness.send('report.submit', { ...monthly, figures: { received: 1 } }), /must have required property 'resolvedOnTime'/, 'figures per report type');
  await t.rejects(harness.send('report.submit', { ...yearly, figures: { ...yearly.figures, digitallySignedRate: 120 } }), /must be <= 100/);
});

t.test('an outage is retried; a wrong or missing key is not, and the key never shows', async (t) => {
  const { harness, state } = await setup(t);
  const [example] = harness.examples<ReportExample>('report.submit');
  state.mode = { mode: 'down' };
  const down = await harness.send('report.submit', example);
  t.equal(down.outcome, 'retried');
  t.equal(down.error?.retryAfterMs, 1000, 'Retry-After honoured');
  state.mode = { mode: 'fail', remaining: 1, status: 500 };
  t.equal((await harness.send('report.submit', example)).outcome, 'retried', 'a 500 is retried');
  state.mode = { mode: 'ok' };
  t.equal((await harness.send('report.submit', example)).outcome, 'delivered', 'and then succeeds');

  const wrong = await setup(t, 'not-the-right-key');
  const refused = await wrong.harness.send('report.submit', example);
  t.equal(refused.outcome, 'dead_lettered', 'a refused key is an operator problem, not retried forever');
  t.match(refused.error?.message, /HTTP 401/);
  t.notMatch(refused.error?.message, /not-the-right-key/);
  await t.rejects(testConnector(periodicReport, { manifest }), /missing secret: apiKey \(LGSP_SECRET_PERIODIC_REPORT_API_KEY\)/);

  const noEndpoint = await testConnector(periodicReport, { manifest, secrets: { apiKey: API_KEY } });
  t.teardown(() => noEndpoint.stop());
  t.match((await noEndpoint.send('report.submit', example)).error?.message, /no endpoint in the registry and no baseUrl/);
  await t.rejects(testConnector(periodicReport, { secrets: { apiKey: API_KEY }, config: { submitPath: 'no-slash' } }), /submitPath must match pattern/);
});

t.test('the simulator checks the bus signature and its own format', async (t) => {
  // A second harness delivers to a local receiver, so a signed request can be replayed as is
  // and then with one byte changed; the simulator trusts both harness keys.
  const probe = await testConnector(periodicReport, { secrets: { apiKey: API_KEY }, receiver: true, config: { submitPath: '/' } });
  t.teardown(() => probe.stop());
  probe.receiver!.respondWith({ status: 201, body: { soBienNhan: 'BC-PROBE', thoiGianNhan: NOW.toISOString(), dungHan: true, soNgayTre: 0, lanNop: 1 } });
  const { url, harness, state } = await setup(t, API_KEY, [probe]);
  const [example] = harness.examples<ReportExample>('report.submit');
  await probe.send('report.submit', example);
  const captured = probe.receiver!.requests[0];
  t.equal(captured.signatureValid, true);
  const replay = (headers: Record<string, string>, body = captured.body) =>
    fetch(`${url}/api/v1/bao-cao`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'lgsp-message-id': captured.headers['lgsp-message-id'], ...headers }, body });

  const unsigned = await replay({});
  t.equal(unsigned.status, 401);
  t.equal((await unsigned.json()).ma, 'CHU_KY_KHONG_HOP_LE');
  const tampered = await replay({ 'lgsp-signature': captured.headers['lgsp-signature'] }, captured.body.replace('412', '413'));
  t.equal(tampered.status, 401, 'a signature over other bytes is refused');
  const genuine = await replay({ 'lgsp-signature': captured.headers['lgsp-signature'] });
  t.equal(genuine.status, 201, 'the signed bytes as sent are accepted');
  t.match(await genuine.json(), { soBienNhan: /^BC-H49-2026-/, dungHan: true, lanNop: 1 });
  const noKey = await fetch(`${url}/api/v1/bao-cao`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: captured.body });
  t.equal((await noKey.json()).ma, 'KHONG_XAC_THUC');
  const malformed = await replay({ 'lgsp-signature': captured.headers['lgsp-signature'] }, '{}');
  t.equal(malformed.status, 401, 'checked before the body is even read');
  const setMode = (body: string) => fetch(`${url}/_admin/mode`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
  const badMode = await setMode('{"mode":"sideways"}');
  t.equal(badMode.status, 400);
  // The simulator's own control answers are problem+json; the submission API keeps the imitated system's shape (ma, moTa).
  t.match(badMode.headers.get('content-type'), /^application\/problem\+json/);
  t.match(await badMode.json(), { status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'mode', message: /must be one of/ }] });
  // The outage knob write-a-connector.md tells integrators to use: it takes JSON like any API
  // (the submission route's raw-bytes parser once swallowed its body, so every switch was a 400).
  const down = await setMode('{"mode":"down"}');
  t.equal(down.status, 200, 'PUT /_admin/mode {"mode":"down"}');
  t.same(await down.json(), { mode: 'down' });
  t.same(state.mode, { mode: 'down' });
  const whileDown = await replay({ 'lgsp-signature': captured.headers['lgsp-signature'] });
  t.equal(whileDown.status, 503, 'the system is down');
  t.equal((await whileDown.json()).ma, 'TAM_NGUNG');
  t.equal((await setMode('{"mode":"fail","failures":2,"status":500}')).status, 200);
  t.same(state.mode, { mode: 'fail', remaining: 2, status: 500 }, 'failures and status taken');
  t.equal((await setMode('{"mode":"ok"}')).status, 200);
  t.same(state.mode, { mode: 'ok' });
  t.equal((await replay({ 'lgsp-signature': captured.headers['lgsp-signature'] })).status, 200, 'up again: the same message, its receipt');
  const listed = await (await fetch(`${url}/_admin/reports?reportType=tthc-thang`)).json();
  t.equal(listed.reports.length, 1);
  t.equal(state.reports[0].messageId, captured.headers['lgsp-message-id']);
});
