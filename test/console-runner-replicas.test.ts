// The console's connector view and actions with two runner replicas (real Kafka and
// PostgreSQL). Each runner runs its own copy of every connector, so the console must ask every
// runner: statistics summed (not the first runner's alone), a restart carried out on each
// runner, and a runner that is down must not take the view or pause/resume away while the
// other runner carries the whole load.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startConsole } from '../services/console/console-service.js';
import { consoleSession } from './helpers/console-session.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import type { ConnectorWorker } from '../services/runner/connector-worker.js';

t.test('console with two runners', async (t) => {
  const bus = await startTestBus(t, { name: 'console-runners', runners: 2 });
  const [r1, r2] = bus.runners;
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: `${r1.url},${r2.url}` }, lagIntervalMs: 300 });
  t.teardown(() => consoleSvc.stop());
  const base = consoleSvc.url;
  const call = await consoleSession(base, bus.clients.get('lgsp-operator')!.clientSecret);
  const relayOf = async () => {
    const r = await call('GET', '/v1/console/connectors');
    t.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body as Array<Record<string, any>>).find((c) => c.name === 'relay')!;
  };
  const worker = (i: number) => bus.runners[i].slots.get('relay')!.worker as ConnectorWorker;

  // Enough messages with distinct keys that both runners' partitions get some.
  const sender = bus.client('so-tttt-qlvb');
  const sendSome = async (n: number, tag: string) => {
    for (let i = 0; i < n; i++) {
      const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: `${tag}-${i}`, payload: { subject: `${tag} ${i}`, body: 'x' } });
      t.equal(r.status, 202);
    }
  };
  await sendSome(24, 'CV-SPLIT');
  await eventually(() => worker(0).stats.delivered + worker(1).stats.delivered === 24);
  t.ok(worker(0).stats.delivered > 0 && worker(1).stats.delivered > 0, 'both runners delivered some');

  await t.test('statistics are the sum over the runners, with each runner shown', async (t) => {
    const relay = await relayOf();
    t.equal(relay.stats.delivered, 24, 'delivered counts both runners');
    t.equal(relay.connector.state, 'RUNNING');
    t.same(relay.runners.map((r: { url: string }) => r.url), [r1.url, r2.url]);
    t.same(
      relay.runners.map((r: { stats: { delivered: number } }) => r.stats.delivered),
      [worker(0).stats.delivered, worker(1).stats.delivered],
    );
    t.same(relay.unreachableRunners, []);
    t.same(relay.unreachableReasons, {});
  });

  await t.test('a restart restarts the connector on every runner', async (t) => {
    const r = await call('POST', '/v1/console/connectors/relay/restart');
    t.equal(r.status, 202, JSON.stringify(r.body));
    t.same(r.body.runners.map((x: { url: string; state: string }) => [x.url, x.state]).sort(), [[r1.url, 'RUNNING'], [r2.url, 'RUNNING']].sort(), 'each runner\'s state after the restart');
    await eventually(() => worker(0)?.state === 'running' && worker(1)?.state === 'running');
    t.equal(worker(0).stats.delivered, 0, 'runner 1 restarted its copy');
    t.equal(worker(1).stats.delivered, 0, 'runner 2 restarted its copy');
  });

  await t.test('a runner that hangs is shown as not answering within seconds', async (t) => {
    // Accepts connections and never answers, as a frozen runner does.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => {
      silent.closeAllConnections();
      silent.close();
    });
    const hung = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const withHung = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: [r1.url, hung, r2.url] } });
    t.teardown(() => withHung.stop());
    const session = await fetch(`${withHung.url}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }),
    });
    const started = Date.now();
    const r = await fetch(`${withHung.url}/v1/console/connectors`, { headers: { cookie: session.headers.get('set-cookie')!.split(';')[0] } });
    const waited = Date.now() - started;
    t.equal(r.status, 200);
    const relay = ((await r.json()) as Array<Record<string, any>>).find((c) => c.name === 'relay')!;
    t.same(relay.unreachableRunners, [hung]);
    // Why it is not answering (hung, refused, a name that does not resolve) is said, not only which.
    t.match(relay.unreachableReasons, { [hung]: /not answering|timed out|no answer/i });
    t.equal(relay.runners.length, 2, 'the two runners that answer are shown');
    t.ok(waited < 10_000, `answered in ${waited} ms, not after a 30 s upstream timeout`);
  });

  await t.test('runner 1 down: the view and pause/resume still work through runner 2', async (t) => {
    await r1.stop();
    const relay = await relayOf();
    t.same(relay.unreachableRunners, [r1.url], 'the runner that did not answer is named');
    t.match(relay.unreachableReasons, { [r1.url]: /ECONNREFUSED/ }, 'with the reason it did not answer');
    t.same(relay.runners.map((r: { url: string }) => r.url), [r2.url]);
    const paused = await call('PUT', '/v1/console/connectors/relay/pause');
    t.equal(paused.status, 202, JSON.stringify(paused.body));
    await eventually(async () => (await relayOf()).connector.state === 'PAUSED');
    const resumed = await call('PUT', '/v1/console/connectors/relay/resume');
    t.equal(resumed.status, 202, JSON.stringify(resumed.body));
    await eventually(async () => (await relayOf()).connector.state === 'RUNNING');
    // A restart cannot reach runner 1: said so, runner 2 restarted all the same.
    const restart = await call('POST', '/v1/console/connectors/relay/restart');
    t.equal(restart.status, 502);
    t.match(restart.body, { code: 'UPSTREAM_UNAVAILABLE', detail: /Restarted on 1 of 2 runners; not on/ });
    t.match(restart.body.detail, r1.url);
  });
});

t.test('console login: a gateway that does not answer is passed over for the next', async (t) => {
  const bus = await startTestBus(t, { name: 'console-gateways', runner: false });
  // Nothing listens on port 9 (the dead first gateway of the list).
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: `http://127.0.0.1:9,${bus.gateway.url}` } });
  t.teardown(() => consoleSvc.stop());
  const login = (clientSecret: string) =>
    fetch(`${consoleSvc.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret }) });
  const ok = await login(bus.clients.get('lgsp-operator')!.clientSecret!);
  t.equal(ok.status, 200, await ok.clone().text());
  const wrong = await login('not-the-secret');
  t.equal(wrong.status, 401, 'a refusal from the gateway that answered is final');
  const alone = await startConsole(bus.config, { upstream: { gateway: 'http://127.0.0.1:9' } });
  t.teardown(() => alone.stop());
  const none = await fetch(`${alone.url}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'lgsp-operator', clientSecret: 'x' }) });
  t.equal(none.status, 502);
  t.match(await none.json(), { code: 'UPSTREAM_UNAVAILABLE', detail: /did not answer/ });
});
