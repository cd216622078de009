// What an operator's monitoring reads: the alerting rules (deploy/prometheus/alerts.yml) and the
// Grafana dashboard (deploy/grafana/lgsp-bus.json) name metrics; each one must be served by a
// bus service's /metrics, or the alert never fires and the panel stays empty without anyone
// noticing. Checked against a running bus (gateway with the pull inbox, runner, audit service,
// console) on the real broker and PostgreSQL. And the inbox gauges behind LgspInboxNotCollected
// follow a pull inbox: an item deposited and not acknowledged shows, an acknowledged one does not.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { startConsole } from '../services/console/console-service.js';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const deployFile = (...parts: string[]) => readFileSync(join(PROJECT_ROOT, 'deploy', ...parts), 'utf8');
const rules = (parse(deployFile('prometheus', 'alerts.yml')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboard = deployFile('grafana', 'lgsp-bus.json');

/** The bus's metric names an expression reads (a histogram's series named by the histogram). */
const metricNames = (text: string) => [...new Set([...text.matchAll(/\blgsp_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')))];

/** Metric names a /metrics exposition declares (`# TYPE name kind`), served with or without samples. */
const declared = (exposition: string) => [...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);

t.test('the alerting rules are complete rules', async (t) => {
  t.ok(rules.length >= 8, `${rules.length} rules`);
  t.match(deployFile('prometheus', 'prometheus.yml'), /^rule_files: \[alerts\.yml\]$/m, 'prometheus.yml loads them');
  const names = new Set<string>();
  for (const rule of rules) {
    t.match(rule.alert, /^Lgsp[A-Za-z]+$/, `an alert name: ${rule.alert}`);
    t.notOk(names.has(rule.alert!), `${rule.alert} is named once`);
    names.add(rule.alert!);
    t.ok(typeof rule.expr === 'string' && rule.expr.length > 0, `${rule.alert}: an expression`);
    t.ok(['warning', 'critical'].includes(rule.labels?.severity ?? ''), `${rule.alert}: a severity`);
    t.ok((rule.annotations?.summary ?? '').length > 10 && (rule.annotations?.description ?? '').length > 40, `${rule.alert}: says what happened and what to do`);
    if (rule.for !== undefined) t.match(rule.for, /^\d+[smh]$/, `${rule.alert}: a duration`);
  }
});

/** Where Prometheus's own PromQL grammar (the one its UI uses) finds an error in `expr`; null when it parses. */
function promqlError(expr: string): string | null {
  let at: number | null = null;
  promql.parse(expr).iterate({ enter: (node) => { if (node.type.isError && at === null) at = node.from; } });
  return at === null ? null : `at ${at}: …${expr.slice(Math.max(0, at - 20), at + 20)}…`;
}

// promtool is not on these machines: without this a typo in an expression reaches Prometheus,
// which refuses the whole rule file, and no alert fires at all.
t.test('every expression of the rules and the dashboard is PromQL', async (t) => {
  t.match(promqlError('sum(rate(x[5m])) > 0 or'), /^at 23: /, 'a broken expression is found');
  for (const rule of rules) t.equal(promqlError(rule.expr!), null, `${rule.alert}: ${rule.expr}`);
  const panels = [...dashboard.matchAll(/"expr":\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  t.ok(panels.length > 5, `${panels.length} dashboard expressions`);
  for (const expr of panels) t.equal(promqlError(expr), null, `dashboard: ${expr}`);
});

t.test('every metric the rules and the dashboard read is served by a bus service', async (t) => {
  const bus = await startEdocBus(t, { name: 'monitoring-rules' });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  const consoleService = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner.url }, lagIntervalMs: 300 });
  t.teardown(() => consoleService.stop());
  const scrape = async (base: string) => {
    const res = await fetch(`${base}/metrics`);
    t.equal(res.status, 200, `${base}/metrics answers a loopback caller`);
    return res.text();
  };
  const services = { gateway: bus.gateway.url, runner: bus.runner.url, audit: audit.url, console: consoleService.url };

  // A pull system's inbox: the office (vp-ubnd-qlvb, 000.00.00.H49) polls.
  const department = bus.client('so-tttt-qlvb');
  const office = bus.client('vp-ubnd-qlvb');
  const sent = await department.request('POST', '/v1/messages', {
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: {
      header: {
        from: { organId: '000.00.12.H49', organName: 'Sở Thông tin và Truyền thông' },
        to: [{ organId: '000.00.00.H49', organName: 'Văn phòng Ủy ban nhân dân tỉnh' }],
        documentId: '000.00.12.H49,2026/12/05,51/BC-STTTT',
        subject: 'Báo cáo tình hình vận hành trục LGSP tháng 11',
      },
    },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const waiting = (exposition: string, metric: string) => new RegExp(`^${metric}\\{system="([^"]+)"[^}]*\\} (\\d+)$`, 'm').exec(exposition);
  let gatewayMetrics = '';
  await eventually(async () => {
    gatewayMetrics = await scrape(services.gateway);
    return waiting(gatewayMetrics, 'lgsp_inbox_waiting_items') !== null;
  }, 60_000);
  const items = waiting(gatewayMetrics, 'lgsp_inbox_waiting_items')!;
  t.equal(items[2], '1', `one item waits for ${items[1]}`);
  const oldest = waiting(gatewayMetrics, 'lgsp_inbox_oldest_waiting_seconds');
  t.ok(oldest && oldest[1] === items[1] && Number(oldest[2]) >= 0 && Number(oldest[2]) < 120, `its age in seconds (${oldest?.[2]})`);

  const exported = new Map<string, string[]>();
  for (const [service, base] of Object.entries(services)) {
    for (const name of declared(await scrape(base))) exported.set(name, [...(exported.get(name) ?? []), service]);
  }
  const read = { 'the alerting rules': metricNames(rules.map((r) => r.expr).join('\n')), 'the dashboard': metricNames(dashboard) };
  for (const [where, names] of Object.entries(read)) {
    t.ok(names.length > 5, `${where} read ${names.length} metrics`);
    for (const name of names) t.ok(exported.has(name), `${name}, read by ${where}, is served (${exported.get(name)?.join(', ') ?? 'by no service'})`);
  }

  // Acknowledged: the system has nothing waiting any more.
  const inbox = await office.request('GET', '/v1/inbox?type=edoc.send');
  const item = inbox.body.items.find((i: { id: string }) => i.id === sent.body.id) ?? inbox.body.items[0];
  t.ok(item, 'the item is in the office inbox');
  t.equal((await office.request('POST', `/v1/inbox/${item.id}/ack`)).status < 300, true, 'acknowledged');
  await eventually(async () => waiting(await scrape(services.gateway), 'lgsp_inbox_waiting_items') === null, 30_000);
  t.notOk(waiting(await scrape(services.gateway), 'lgsp_inbox_oldest_waiting_seconds'), 'and no age is reported for it');
});
