// Kafka down: the gateway answers 503 with Retry-After (never a 202 that could be lost), and
// every message answered 202 before the outage is delivered after the broker comes back.
import t from 'tap';
import { startLocalKafka } from '../services/local-kafka/local-kafka.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { readFileSync } from 'node:fs';
import { freeze } from './helpers/frozen-process.js';

/** A process's state letter in /proc (T: stopped). */
const processState = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];

// Two outages of a broker of its own, each waited out: about 165 s on a loaded two-core machine,
// past tap's default of 180 s for a file once another file runs beside it.
t.setTimeout(300_000);

t.test('broker outage', async (t) => {
  const kafka = await startLocalKafka();
  t.teardown(() => kafka.stop());
  const bus = await startTestBus(t, { name: 'outage', kafka: kafka.clientSettings() });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  // What an operator reads on the Connectors page (the runner's status, which the console shows).
  const operator = await bus.client('lgsp-operator').accessToken();
  const lastError = async () =>
    ((await (await fetch(`${bus.runner!.url}/v1/connectors/relay/status`, { headers: { authorization: `Bearer ${operator}` } })).json()) as { lastError: string | null }).lastError;
  const relay = bus.runner!.slots.get('relay')!.worker!;
  relay.pause();

  const accepted: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `trước sự cố ${i}`, body: 'x' } });
    t.equal(r.status, 202);
    accepted.push(r.body.id);
  }

  await kafka.stopNode(0);
  const started = Date.now();
  const during = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'trong sự cố', body: 'x' } });
  t.equal(during.status, 503, 'Kafka down → 503');
  t.match(during.headers.get('content-type'), /problem\+json/);
  t.ok(Number(during.headers.get('retry-after')) > 0, 'Retry-After set');
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { required?: boolean }> }> }>> };
  t.equal(doc.paths['/v1/messages'].post.responses['503'].headers?.['Retry-After']?.required, true, 'and the OpenAPI document says every 503 carries it');
  t.equal(during.body.code, 'BUS_UNAVAILABLE');
  // Without a key too the 503 names the message it may still deliver, so the sender can look it up.
  t.match(during.body, { messageId: /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/, detail: /may not have been accepted, or it may still be delivered, as message [0-9a-f-]{36}.*send one/ });
  t.ok(during.body.detail.includes(`GET /v1/messages/${during.body.messageId}`), 'and says where to look');
  t.ok(Date.now() - started < 30_000, `answered within 30 s (${Date.now() - started} ms)`);
  const ready = await fetch(`${bus.gateway.url}/readyz`);
  t.equal(ready.status, 503, 'not ready while Kafka is down');
  // With an Idempotency-Key the 503 names the message, and the retry the 503 asks for names the
  // same one: had the first produce been appended after all, the two would be one message.
  const keyed = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'trong sự cố, có khoá', body: 'x' } };
  const keyedDuring = await sender.send(keyed, 'outage-key-1');
  t.equal(keyedDuring.status, 503);
  t.match(keyedDuring.body, { code: 'BUS_UNAVAILABLE', messageId: String, detail: /retry with the same Idempotency-Key/ });

  t.match(await eventually(async () => {
    const e = await lastError();
    return e?.startsWith('consumer crashed: ') ? e : null;
  }, 90_000, 500), /^consumer crashed: /, 'the outage shows as the connector\'s last error');

  await kafka.startNode(0);
  relay.resume();
  t.ok(
    await eventually(() => accepted.every((id) => bus.simulator.received.get('so-tp-qlvb')?.some((m) => m.id === id)), 90_000, 250),
    'every message accepted before the outage was delivered after it',
  );
  const after = await eventually(async () => {
    const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'sau sự cố', body: 'x' } });
    return r.status === 202 ? r : null;
  }, 30_000, 500);
  t.equal(after.status, 202, 'accepting again after recovery');
  const keyedRetry = await sender.send(keyed, 'outage-key-1');
  t.equal(keyedRetry.status, 202);
  t.equal(keyedRetry.body.id, keyedDuring.body.messageId, 'the retry is the message the 503 named');
  await eventually(() => bus.simulator.received.get('so-tp-qlvb')?.some((m) => m.id === keyedRetry.body.id), 60_000, 250);
  t.equal(bus.simulator.received.get('so-tp-qlvb')!.filter((m) => m.id === keyedRetry.body.id).length, 1, 'delivered once');
  // Delivering again, the connector no longer shows the outage as its last error (it did, for
  // good: an operator looked for a fault that was over).
  t.equal(await eventually(async () => ((await lastError()) === null ? 'cleared' : null), 30_000, 500).catch(async () => lastError()), 'cleared', 'the crash is no longer the connector\'s last error once it is back in its group');
  // Services first, broker last: disconnecting from a stopped broker would wait out retries.
  await bus.stop();
  await kafka.stop();
});

// A broker that hangs instead of refusing (SIGSTOP: connections stay open, nothing answers). The
// gateway's produce would wait out kafkajs's retries (~41 s); the client learns within the
// produce timeout instead, and the keyed retry after the thaw is one message even though the
// first attempt's record may be appended when the broker wakes.
t.test('hung broker: 503 within the produce timeout; the keyed retry is delivered once', async (t) => {
  const kafka = await startLocalKafka();
  t.teardown(() => kafka.stop());
  const bus = await startTestBus(t, { name: 'hung-broker', kafka: kafka.clientSettings(), config: { produceTimeoutMs: 3000 } });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  const notice = (subject: string) => ({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject, body: 'x' } });
  t.equal((await sender.send(notice('trước khi treo'))).status, 202);

  const thaw = freeze([kafka.pids[0]]);
  t.teardown(thaw);
  // Once (2026-12-05, CI at 003af13) both submissions below were answered 202 in 41 ms, as if
  // the broker were not frozen: said here if the freeze did not take, and which broker was asked.
  const frozen = await eventually(() => (processState(kafka.pids[0]) === 'T' ? 'T' : null), 2000, 20).catch(() => processState(kafka.pids[0]));
  t.equal(frozen, 'T', `the broker (pid ${kafka.pids[0]}, ${kafka.clientSettings().kafkaBrokers.join(',')}) is stopped; the bus asks ${bus.config.kafkaBrokers.join(',')}`);
  const started = Date.now();
  const [keyed, plain] = await Promise.all([sender.send(notice('khi treo, có khoá'), 'hung-key-1'), sender.send(notice('khi treo'))]);
  const took = Date.now() - started;
  t.equal(keyed.status, 503, 'keyed submission refused while the broker hangs');
  t.match(keyed.body, { code: 'BUS_UNAVAILABLE', messageId: String });
  t.equal(plain.status, 503, 'plain submission refused too');
  t.match(plain.body, { code: 'BUS_UNAVAILABLE', messageId: String, detail: /may not have been accepted/ });
  t.ok(took < 10_000, `both answered in ${took} ms (produce timeout 3 s), not after kafkajs's retries`);

  thaw();
  const retry = await eventually(async () => {
    const r = await sender.send(notice('khi treo, có khoá'), 'hung-key-1');
    return r.status === 202 ? r : null;
  }, 60_000, 500);
  t.equal(retry.body.id, keyed.body.messageId, 'the retry is the message the 503 named');
  await eventually(() => bus.simulator.received.get('so-tp-qlvb')?.some((m) => m.id === retry.body.id), 60_000, 250);
  // The first attempt may land after the thaw too: give it time to be delivered twice if it could be.
  await new Promise((r) => setTimeout(r, 3000));
  t.equal(bus.simulator.received.get('so-tp-qlvb')!.filter((m) => m.id === retry.body.id).length, 1, 'delivered once');
  await bus.stop();
  await kafka.stop();
});
