// The periodic-report example end to end on the real broker, as in `npm start`: an agency's
// QLVB system submits report.submit through the gateway; the runner's periodic-report connector
// forwards it, signed, to the reporting system simulator (which checks the signature against
// the platform keys and the API key from the connector's secret); the receipt number appears on
// the message's timeline. A refused report is dead-lettered with the simulator's reason; the
// gateway enforces the schema and the access rights of the demo registry.
import t from 'tap';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { buildReportingSimulator } from '../services/reporting-simulator/reporting-app.js';
import { REPORTING_SIMULATOR_PLACEHOLDER } from '../services/reporting-simulator/dev-setup.js';
import { readTopic } from './helpers/topic-reader.js';
import type { PublicKeyset } from '../services/platform/public-keyset.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';

const API_KEY = 'bus-test-reporting-key';
const OFFICE = '000.00.00.H49';

t.test('report.submit: gateway → Kafka → periodic-report → reporting system, receipt on the timeline', async (t) => {
  const examples = new SchemaCatalogue().loadConnectors().messageTypes.get('report.submit')!.schema.examples as Record<string, any>[];
  let keys: PublicKeyset | undefined;
  const sim = await buildReportingSimulator({ apiKey: API_KEY, verificationKeys: (header, token) => keys!.resolver('delivery')(header, token) });
  const simUrl = await sim.app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => sim.app.close());
  const bus = await startTestBus(t, {
    name: 'periodic-report',
    connectors: ['periodic-report'],
    connectorSecrets: { 'periodic-report': { apiKey: API_KEY } },
    // What `npm start` does with the seed's placeholder endpoint.
    registry: (registry) => {
      const system = registry.systems.find((s) => s.clientId === 'vp-ubnd-baocao')!;
      t.equal(system.endpoint, REPORTING_SIMULATOR_PLACEHOLDER, 'the demo registry points the reporting system at the simulator placeholder');
      system.endpoint = simUrl;
    },
  });
  keys = bus.keys.publicKeys;
  const agency = bus.client('so-tp-qlvb');

  const services = await agency.request('GET', '/v1/services');
  t.ok(services.body.services.some((s: { code: string; messageTypes: { type: string }[] }) => s.code === 'periodic-report' && s.messageTypes[0].type === 'report.submit'), 'agencies see the service');

  const sent = await agency.send({ type: 'report.submit', to: { member: OFFICE, service: 'periodic-report' }, correlationId: '45/BC-STP', payload: examples[0] });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const view = await eventually(async () => {
    const r = await agency.status(sent.body.id);
    return r.body.status === 'delivered' ? r.body : null;
  }, 30_000);
  const events = view.events.map((e: { event: string }) => e.event);
  t.same(events, ['accepted', 'status', 'delivered'], 'the receipt arrives as a status event before delivered');
  const receipt = view.events.find((e: { event: string }) => e.event === 'status').detail;
  t.match(receipt, { receipt: /^BC-H49-\d{4}-\d{6}$/, reportType: 'tthc-thang', period: '2026-03', revision: 1 });
  t.equal(view.events.find((e: { event: string }) => e.event === 'delivered').detail.receipt, receipt.receipt);
  const stored = sim.state.reports.find((r) => r.messageId === sent.body.id)!;
  t.match(stored, { agency: '000.00.15.H49', system: 'so-tp-qlvb', receipt: receipt.receipt }, 'the simulator verified the platform signature and the key');

  const refused = await agency.send({ type: 'report.submit', to: { member: OFFICE, service: 'periodic-report' }, payload: { ...examples[0], figures: { ...examples[0].figures, onlineReceived: 100000 } } });
  t.equal(refused.status, 202);
  const dead = await eventually(async () => {
    const r = await agency.status(refused.body.id);
    return r.body.status === 'dead_lettered' ? r.body : null;
  }, 30_000);
  t.match(dead.events.find((e: { event: string }) => e.event === 'dead_lettered').detail.reason, /the reporting system refused the report: SO_LIEU_KHONG_KHOP \(soLieu\.onlineReceived\)/);
  const dlq = await readTopic(bus.config.kafkaBrokers, `${bus.config.topicPrefix}lgsp.dlq.periodic-report`, 1);
  t.match(dlq[0].headers['lgsp-dlq-reason'], /SO_LIEU_KHONG_KHOP/);

  const mismatched = await agency.send({ type: 'report.submit', to: { member: OFFICE, service: 'periodic-report' }, payload: { ...examples[0], period: '2026' } });
  t.equal(mismatched.status, 400, 'the gateway applies the per-type schema');
  t.ok(mismatched.body.errors.some((e: { field: string }) => /period/.test(e.field)));
  const notAllowed = await bus.client('so-tp-motcua').send({ type: 'report.submit', to: { member: OFFICE, service: 'periodic-report' }, payload: examples[0] });
  t.equal(notAllowed.status, 403, 'deny by default: the one-stop-shop system has no access right');

  const runnerMetrics = await (await fetch(`${bus.runner!.url}/metrics`)).text();
  t.match(runnerMetrics, /lgsp_connector_periodic_report_reports_submitted_total\{report_type="tthc-thang",on_time="(true|false)",service="runner"\} 1/);
});
