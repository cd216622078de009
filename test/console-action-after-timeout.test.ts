// A connector pause the console gave up on (its runner frozen: the request sits in the socket)
// was carried out once the runner ran again, seconds after the operator had been told 502 "No
// runner answered" and the audit chain said `failed`: the connector ended up PAUSED and messages
// piled up. The console now says by when the runner must start the action (LGSP-Start-By, a
// little before it stops waiting), and a runner that gets it later refuses it (408).
import t from 'tap';
import Fastify from 'fastify';
import { startConsole } from '../services/console/console-service.js';
import type { ProblemError } from '../services/platform/problem.js';
import { refuseIfTooLate, startByHeader, START_BY_HEADER } from '../services/platform/action-start-by.js';
import { startTestBus, eventually, serviceProcessEnv } from './helpers/test-bus.js';
import { freeze } from './helpers/frozen-process.js';
import { startServiceProcess } from './helpers/service-process.js';
import { consoleSession } from './helpers/console-session.js';

t.test('start-by, unit', async (t) => {
  const header = startByHeader(10_000, 1_000, Date.parse('2026-12-07T10:00:00Z'));
  t.same(header, { [START_BY_HEADER]: '2026-12-07T10:00:09.000Z' }, 'the wait less the margin for the answer');
  const app = Fastify();
  app.setErrorHandler((err: ProblemError, _req, reply) => reply.code(err.status).send({ code: err.code, detail: err.detail }));
  app.put('/act', async (req) => {
    refuseIfTooLate(req);
    return { done: true };
  });
  t.teardown(() => app.close());
  const at = (value?: string) => app.inject({ method: 'PUT', url: '/act', headers: value === undefined ? {} : { [START_BY_HEADER]: value } });
  t.equal((await at()).statusCode, 200, 'no header: taken as before');
  t.equal((await at(new Date(Date.now() + 5_000).toISOString())).statusCode, 200, 'in time');
  t.equal((await at('not a time')).statusCode, 200, 'a value that does not parse: taken as before');
  const late = await at(new Date(Date.now() - 3_000).toISOString());
  t.equal(late.statusCode, 408, 'after its start-by time: refused');
  t.match(late.json(), { code: 'REQUEST_TIMEOUT', detail: /reached the runner 3\.\d s later, after its caller had stopped waiting, and was not carried out/ });
});

t.test('a pause the console gave up on is not carried out when the frozen runner wakes', { timeout: 120_000 }, async (t) => {
  const bus = await startTestBus(t, { name: 'action-after-timeout', runner: false });
  let thaw: (() => void) | null = null;
  t.teardown(() => thaw?.());
  const { child, url: runner } = await startServiceProcess(t, 'runner', { ...serviceProcessEnv(bus.config), LGSP_INSTANCE_ID: `late-action-runner-${process.pid}`, LOG_LEVEL: 'error' });
  await eventually(async () => (await fetch(`${runner}/readyz`)).status === 200, 60_000);
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner } });
  t.teardown(() => consoleSvc.stop());
  const call = await consoleSession(consoleSvc.url, bus.clients.get('lgsp-operator')!.clientSecret);
  const token = await bus.client('lgsp-operator').accessToken();
  const state = async () => ((await (await fetch(`${runner}/v1/connectors/relay/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { connector: { state: string } }).connector.state;
  await eventually(async () => (await state()) === 'RUNNING', 60_000);

  thaw = freeze([child.pid!]);
  const pause = await call('PUT', '/v1/console/connectors/relay/pause');
  t.equal(pause.status, 502, 'the frozen runner did not answer');
  t.match(pause.body, { code: 'UPSTREAM_UNAVAILABLE', detail: /^No runner answered: .*Not carried out: a runner that gets the request later refuses it$/ });
  thaw();
  thaw = null;
  await eventually(async () => (await fetch(`${runner}/readyz`)).status === 200, 30_000);
  // The request was in the runner's socket all along: it is read now, and refused.
  await new Promise((r) => setTimeout(r, 2_000));
  t.equal(await state(), 'RUNNING', 'the connector was not paused behind the operator\'s back');

  t.equal((await call('PUT', '/v1/console/connectors/relay/pause')).status, 202, 'a runner that answers in time is paused as before');
  t.equal(await state(), 'PAUSED');
  t.equal((await call('PUT', '/v1/console/connectors/relay/resume')).status, 202);
});
