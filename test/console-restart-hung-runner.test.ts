// A connector restart from the console while one runner replica hangs (frozen: its connections
// open, nothing answered). The healthy runner's restart of its copy waits for the connector's
// consumer group, which waits for the frozen member until its session times out — longer than
// the 10 s the console gave an action — so the console answered "Restarted on 0 of 2 runners",
// naming the healthy runner as not restarted although it was. The console now waits for a
// restart while the runner answers its /healthz (as for the audit's integrity check), and names
// only the runner that does not answer.
import t from 'tap';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus, eventually, serviceProcessEnv } from './helpers/test-bus.js';
import { freeze } from './helpers/frozen-process.js';
import { startServiceProcess } from './helpers/service-process.js';
import type { ConnectorWorker } from '../services/runner/connector-worker.js';

t.test('a restart with one runner frozen: the healthy runner restarts and is said to', { timeout: 150_000 }, async (t) => {
  const bus = await startTestBus(t, { name: 'restart-hung-runner', runners: 1 });
  const r1 = bus.runners[0];
  let thaw: (() => void) | null = null;
  t.teardown(() => thaw?.());
  const { child, url: r2 } = await startServiceProcess(t, 'runner', { ...serviceProcessEnv(bus.config), LGSP_INSTANCE_ID: `frozen-runner-${process.pid}`, LGSP_CONSUMER_SESSION_TIMEOUT_MS: '15000', LOG_LEVEL: 'error' });
  await eventually(async () => (await fetch(`${r2}/readyz`)).status === 200, 60_000);

  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: `${r1.url},${r2}` } });
  t.teardown(() => consoleSvc.stop());
  const login = await fetch(`${consoleSvc.url}/v1/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }),
  });
  const cookie = login.headers.get('set-cookie')!.split(';')[0];
  // Both runners' copies of relay in its consumer group before the one freezes.
  await eventually(async () => {
    const r = await fetch(`${consoleSvc.url}/v1/console/connectors`, { headers: { cookie } });
    const relay = ((await r.json()) as Array<{ name: string; runners: { state: string }[] }>).find((c) => c.name === 'relay');
    return relay?.runners.length === 2 && relay.runners.every((x) => x.state === 'RUNNING');
  }, 60_000);
  await new Promise((r) => setTimeout(r, 3000));

  const before = r1.slots.get('relay')!.worker as ConnectorWorker;
  thaw = freeze([child.pid!]);
  const started = Date.now();
  const restart = await fetch(`${consoleSvc.url}/v1/console/connectors/relay/restart`, { method: 'POST', headers: { cookie, 'x-lgsp-console': '1' } });
  const waited = Date.now() - started;
  const body = (await restart.json()) as { code: string; detail: string };
  t.equal(restart.status, 502);
  t.equal(body.code, 'UPSTREAM_UNAVAILABLE');
  t.match(body.detail, /^Restarted on 1 of 2 runners; not on /, 'the healthy runner is counted as restarted');
  t.notMatch(body.detail, r1.url, 'and not named as not restarted');
  t.match(body.detail, `${r2} (The runner is not answering`, 'the frozen one is named, with why');
  t.ok(waited < 40_000, `answered in ${waited} ms, within the page's 40 s`);
  const after = r1.slots.get('relay')!.worker as ConnectorWorker;
  t.not(after, before, 'runner 1 started a new copy of the connector');
  t.equal(after.state, 'running', 'which runs');
});
