// The connector SDK and its test harness, without Kafka: configuration validated like the
// runner does, secrets (declared, required, never printed), metrics, the outcome classification
// (delivered / retried / dead-lettered), payloads checked against the manifest's schemas, the
// local receiver verifying signed deliveries, and the configuration documented from its schema.
import t from 'tap';
import { inspect } from 'node:util';
import relay from '../connectors/relay/index.js';
import { acceptanceOrder, defineConnector, PermanentError, RetryableError } from '@lgsp/sdk';
import { createEnvelope } from '../services/platform/envelope.js';
import { testConnector, startTestReceiver, loadManifest } from '@lgsp/sdk/testing';
import { secretEnvName, secretsOf } from '@lgsp/sdk/secrets';
import { connectorMetricName } from '@lgsp/sdk/metrics';
import { configMarkdown, describeConfig } from '@lgsp/sdk/config-reference';
import periodicReport from '../connectors/periodic-report/index.js';

const relayManifest = new URL('../connectors/relay/connector.json', import.meta.url);

t.test('the relay connector on the harness: signed delivery to a local receiver', async (t) => {
  const harness = await testConnector(relay, { manifest: relayManifest, receiver: { path: '/so-tp-qlvb' } });
  t.teardown(() => harness.stop());
  t.same(harness.config, { timeoutMs: 10000 }, 'configuration defaults filled in from the schema');

  const [outcome] = await harness.sendExamples('notice.send');
  t.equal(outcome.outcome, 'delivered');
  t.same(outcome.detail, { httpStatus: 200 });
  const [request] = harness.receiver!.requests;
  t.equal(request.path, '/so-tp-qlvb');
  t.equal(request.headers['content-type'], 'application/jose');
  t.equal(request.headers['lgsp-message-id'], outcome.envelope.id);
  t.equal(request.signatureValid, true, 'the receiver verifies the harness signature');
  t.same(request.envelope?.data, harness.examples('notice.send')[0]);
  t.equal(outcome.deliveries.length, 1);
  t.equal(outcome.deliveries[0].response?.status, 200);
});

t.test('outcomes are classified as the runtime would', async (t) => {
  const harness = await testConnector(relay, { manifest: relayManifest, receiver: true });
  t.teardown(() => harness.stop());
  const [example] = harness.examples('notice.send');

  harness.receiver!.respondOnce({ status: 503, headers: { 'retry-after': '3' } });
  const unavailable = await harness.send('notice.send', example);
  t.equal(unavailable.outcome, 'retried');
  t.equal(unavailable.error?.retryAfterMs, 3000);

  harness.receiver!.respondOnce({ status: 429 });
  t.equal((await harness.send('notice.send', example)).outcome, 'retried', '429 is retried');
  harness.receiver!.respondOnce({ status: 400 });
  const refused = await harness.send('notice.send', example);
  t.equal(refused.outcome, 'dead_lettered', 'other 4xx are permanent');
  t.match(refused.error?.message, /HTTP 400/);

  const unreachable = await testConnector(relay, { service: { endpoint: 'http://127.0.0.1:9/' } });
  t.teardown(() => unreachable.stop());
  t.equal((await unreachable.send('notice.send', example)).outcome, 'retried', 'a network error is retried');

  const noEndpoint = await testConnector(relay, {});
  t.teardown(() => noEndpoint.stop());
  const dead = await noEndpoint.send('notice.send', example);
  t.equal(dead.outcome, 'dead_lettered');
  t.match(dead.error?.message, /no delivery endpoint/);
});

t.test('sample payloads are checked against the declared schema; config like the runner', async (t) => {
  const harness = await testConnector(relay, { manifest: relayManifest });
  t.teardown(() => harness.stop());
  await t.rejects(harness.send('notice.send', { subject: '' }), /would be refused by the gateway: .*subject/);
  await t.rejects(harness.send('edoc.send', {}), /not declared in the connector's manifest/);
  t.equal((await harness.send('notice.send', { subject: '' }, { validate: false })).outcome, 'dead_lettered', 'validate: false hands it over anyway');
  await t.rejects(testConnector(relay, { config: { timeoutMs: 5 } }), /connector relay: invalid configuration: \/timeoutMs must be >= 100/);
  await t.rejects(testConnector(relay, { config: { bogus: true } }), /\(root\) has unknown property "bogus"/);
  await t.rejects(testConnector(periodicReport, { manifest: relayManifest, secrets: { apiKey: 'k' } }), /connector.json declares relay, the module periodic-report/);
  t.throws(() => loadManifest(new URL('../connectors/relay/index.ts', import.meta.url)), 'not a manifest');
});

t.test('Vietnamese payloads reach the connector NFC-normalised', async (t) => {
  let seen = '';
  const probe = defineConnector({
    name: 'nfc-probe',
    async handle(message) {
      seen = (message.data as { subject: string }).subject;
    },
  });
  const harness = await testConnector(probe);
  t.teardown(() => harness.stop());
  const decomposed = 'Thông báo'.normalize('NFD');
  await harness.send('notice.send', { subject: decomposed });
  t.equal(seen, 'Thông báo'.normalize('NFC'));
  t.not(seen, decomposed);
});

t.test('secrets: declared, required at start, readable in handle, never printed', async (t) => {
  let startSaw = '';
  const connector = defineConnector<{ label?: string }>({
    name: 'secret-user',
    secrets: { apiKey: { description: 'key of the target' }, extraToken: { optional: true } },
    async start({ secrets }) {
      startSaw = secrets.get('apiKey');
    },
    async handle(_message, ctx) {
      ctx.log.info({ secrets: ctx.secrets }, 'using the key');
      await ctx.emitStatus({ keyLength: ctx.secrets.get('apiKey').length, hasExtra: ctx.secrets.has('extraToken') });
      if ((_message.data as { useExtra?: boolean }).useExtra) ctx.secrets.get('extraToken');
      if ((_message.data as { undeclared?: boolean }).undeclared) ctx.secrets.get('password');
    },
  });
  await t.rejects(testConnector(connector, {}), /missing secret: apiKey \(LGSP_SECRET_SECRET_USER_API_KEY\)/, 'a required secret is checked at start');

  const harness = await testConnector(connector, { secrets: { apiKey: 's3cr3t-value' } });
  t.teardown(() => harness.stop());
  t.equal(startSaw, 's3cr3t-value', 'start() gets the secrets');
  const ok = await harness.send('x.do', {});
  t.equal(ok.outcome, 'delivered');
  t.same(ok.statuses, [{ keyLength: 12, hasExtra: false }]);
  const logged = JSON.stringify(harness.logs);
  t.notMatch(logged, /s3cr3t-value/, 'a logged secrets object prints no value');
  t.match(logged, /\[secrets of secret-user: apiKey, extraToken\]/);

  const missingOptional = await harness.send('x.do', { useExtra: true });
  t.equal(missingOptional.outcome, 'dead_lettered', 'an unset secret is a permanent failure');
  t.match(missingOptional.error?.message, /secret "extraToken" of connector secret-user is not set \(LGSP_SECRET_SECRET_USER_EXTRA_TOKEN\)/);
  const undeclared = await harness.send('x.do', { undeclared: true });
  t.match(undeclared.error?.message, /does not declare it/);

  const secrets = secretsOf('c', { k: {} }, new Map([['k', 'value-1234']]));
  t.notMatch(inspect(secrets), /value-1234/, 'util.inspect');
  t.notMatch(`${secrets}`, /value-1234/, 'string conversion');
  t.notMatch(JSON.stringify({ secrets }), /value-1234/, 'JSON');
  t.equal(secretEnvName('periodic-report', 'apiKey'), 'LGSP_SECRET_PERIODIC_REPORT_API_KEY');
  t.equal(secretEnvName('relay', 'password'), 'LGSP_SECRET_RELAY_PASSWORD');
  t.throws(() => secretEnvName('relay', 'bad name'), /must match/);
});

t.test('metrics, replies, statuses and errors a handler produces are recorded', async (t) => {
  const connector = defineConnector({
    name: 'busy',
    async handle(message, ctx) {
      const data = message.data as { fail?: 'retry' | 'permanent' };
      ctx.metrics.counter('handled_total', 'handled', ['kind']).inc({ kind: message.type });
      const stop = ctx.metrics.histogram('work_seconds', 'work').startTimer();
      await ctx.reply({ answer: 'Đã nhận' });
      stop();
      if (data.fail === 'retry') throw new RetryableError('target busy', 1500);
      if (data.fail === 'permanent') throw new PermanentError('cannot map');
      return { detail: { ok: true } };
    },
  });
  const harness = await testConnector(connector);
  t.teardown(() => harness.stop());
  const ok = await harness.send('a.b', {});
  t.same(ok.replies, [{ answer: 'Đã nhận' }]);
  t.same(ok.detail, { ok: true });
  const retried = await harness.send('a.b', { fail: 'retry' }, { attempt: 2 });
  t.equal(retried.outcome, 'retried');
  t.equal(retried.error?.retryAfterMs, 1500);
  t.equal((await harness.send('c.d', { fail: 'permanent' })).outcome, 'dead_lettered');
  t.equal(harness.metrics.value('handled_total', { kind: 'a.b' }), 2);
  t.equal(harness.metrics.value('handled_total', { kind: 'c.d' }), 1);
  t.equal(harness.metrics.observations('work_seconds').length, 3);
  t.equal(harness.replies.length, 3);
  t.throws(() => harness.metrics.histogram('handled_total'), /already a counter/);
  t.throws(() => connectorMetricName('x', 'Bad-Name'), /must match/);
  t.equal(connectorMetricName('periodic-report', 'reports_submitted_total'), 'lgsp_connector_periodic_report_reports_submitted_total');
});

t.test('deposits only of the message being handled; the harness has no attachment store', async (t) => {
  const connector = defineConnector({
    name: 'depositor',
    async handle(message, ctx) {
      if ((message.data as { other?: boolean }).other) await ctx.depositToInbox({ ...message, id: 'someone-else' });
      else await ctx.depositToInbox(message);
      return { outcome: 'deposited' };
    },
  });
  const harness = await testConnector(connector);
  t.teardown(() => harness.stop());
  const deposited = await harness.send('a.b', {});
  t.equal(deposited.outcome, 'deposited');
  t.equal(deposited.deposits[0].id, deposited.envelope.id);
  t.equal((await harness.send('a.b', { other: true })).outcome, 'dead_lettered');
});

t.test('the local receiver: scripted answers, waits, delays', async (t) => {
  const receiver = await startTestReceiver();
  t.teardown(() => receiver.close());
  receiver.respondWith((req) => ({ status: req.path === '/missing' ? 404 : 201, body: { echo: req.json } }));
  receiver.respondOnce({ status: 500, body: 'boom' });
  const first = await fetch(`${receiver.url}/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  t.equal(first.status, 500);
  const second = await fetch(`${receiver.url}/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":2}' });
  t.same(await second.json(), { echo: { a: 2 } });
  t.equal((await fetch(`${receiver.url}/missing`, { method: 'POST' })).status, 404);
  t.equal((await receiver.waitFor(3)).length, 3);
  await t.rejects(receiver.waitFor(5, 100), /got 3 of 5 requests/);
  t.same(receiver.requests.map((r) => r.json), [{ a: 1 }, { a: 2 }, undefined]);
});

t.test('configuration is documented from the config schema', async (t) => {
  const rows = describeConfig(periodicReport.configSchema);
  t.same(rows.map((r) => r.key), ['baseUrl', 'submitPath', 'timeoutMs']);
  t.match(rows.find((r) => r.key === 'timeoutMs'), { type: 'integer (≥ 100, ≤ 120000)', required: false, default: 10000, description: /How long/ });
  const nested = describeConfig({ type: 'object', required: ['auth'], properties: { auth: { type: 'object', properties: { user: { type: 'string', description: 'a | b' } } }, mode: { enum: ['a', 'b'] } } });
  t.same(nested.map((r) => [r.key, r.required]), [['auth', true], ['auth.user', false], ['mode', false]]);
  const table = configMarkdown(periodicReport.configSchema);
  t.match(table, /\| `submitPath` \| string \(pattern \^\/\) \| no \| `"\/api\/v1\/bao-cao"` \|/);
  t.match(configMarkdown({ type: 'object', properties: { x: { type: 'string', description: 'a | b' } } }), /a \\\| b/, 'pipes escaped');
  t.match(configMarkdown(undefined), /takes no configuration/);
});

t.test('ctx.state in the harness: in memory, newest wins, shared between two harnesses like two runners', async (t) => {
  // "Newest update wins" the way docs/write-a-connector.md shows it.
  const connector = defineConnector({
    name: 'newest-wins',
    async handle(message, ctx) {
      const key = `record:${(message.data as { recordId: string }).recordId}`;
      const order = acceptanceOrder(message);
      for (;;) {
        const seen = await ctx.state.get<{ newest: string }>(key);
        if (seen && seen.newest >= order) return { detail: { superseded: true } };
        if (await ctx.state.compareAndSet(key, seen, { newest: order })) return { detail: { superseded: false } };
      }
    },
  });
  const a = await testConnector(connector, {});
  t.teardown(() => a.stop());
  const b = await testConnector(connector, { state: a.state });
  t.teardown(() => b.stop());
  const first = await a.send('x.do', { recordId: 'R1' });
  await new Promise((r) => setTimeout(r, 2));
  const second = await b.send('x.do', { recordId: 'R1' });
  t.same(first.detail, { superseded: false });
  t.same(second.detail, { superseded: false }, 'a newer message wins');
  t.same(await a.state.get('record:R1'), { newest: acceptanceOrder(second.envelope) }, 'both harnesses see one state');
  // A newer update already applied: this one is superseded.
  await a.state.set('record:R2', { newest: acceptanceOrder({ time: '2999-01-01T00:00:00.000Z', id: '0' }) });
  t.same((await b.send('x.do', { recordId: 'R2' })).detail, { superseded: true }, 'an older update does not overwrite a newer one');
  // Ids of messages sent with an Idempotency-Key are derived from the key and do not sort by
  // time: the later message here has the smaller id, and still wins.
  const older = createEnvelope({ id: 'ffffffff-ffff-8fff-bfff-ffffffffffff', type: 'x.do', from: { member: 'M', system: 's' }, to: { member: 'N', service: 'x' }, data: { recordId: 'R3' }, time: new Date('2026-12-01T08:00:00.000Z') });
  const newer = createEnvelope({ id: '00000000-0000-8000-8000-000000000000', type: 'x.do', from: { member: 'M', system: 's' }, to: { member: 'N', service: 'x' }, data: { recordId: 'R3' }, time: new Date('2026-12-01T08:00:01.000Z') });
  t.same((await a.handle(newer)).detail, { superseded: false });
  t.same((await a.handle(older)).detail, { superseded: true }, 'ordered by acceptance time, not by id');
  const fresh = await testConnector(connector, {});
  t.teardown(() => fresh.stop());
  t.equal(await fresh.state.get('record:R1'), undefined, 'each harness starts with empty state unless given one');
});
