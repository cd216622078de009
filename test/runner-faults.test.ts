// The runtime's guarantees on a real broker: forged records never reach a destination,
// failures are retried with backoff then delivered, permanent failures and exhausted retries
// are dead-lettered with the reason, duplicates are delivered once.
import t from 'tap';
import { createEnvelope, payloadDigest } from '../services/platform/envelope.js';
import { sealerFor } from '../services/platform/payload-keyring.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { signBatch } from '../services/platform/record-signing.js';
import { topicsFor } from '../services/platform/topics.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { testKafka } from './helpers/test-kafka.js';
import { readTopic } from './helpers/topic-reader.js';

const notice = (subject: string, member = '000.00.15.H49') => ({
  type: 'notice.send',
  to: { member, service: 'notice' },
  payload: { subject, body: 'Nội dung thông báo' },
});

t.test('runner guarantees', async (t) => {
  const bus = await startTestBus(t, { name: 'faults' });
  const topics = topicsFor(bus.config.topicPrefix);
  const sender = bus.client('so-tttt-qlvb');
  const statusOf = async (id: string, wanted: string) =>
    eventually(async () => {
      const r = await sender.status(id);
      return r.body.status === wanted ? r.body : null;
    });

  const lastError = async () => {
    const operator = await bus.client('lgsp-operator').accessToken();
    const status = (await (await fetch(`${bus.runner!.url}/v1/connectors/relay/status`, { headers: { authorization: `Bearer ${operator}` } })).json()) as { lastError: string | null };
    return status.lastError;
  };

  await t.test('records forged straight into Kafka are never delivered', async (t) => {
    const kafka = testKafka('forger');
    const producer = kafka.producer();
    await producer.connect();
    const forgedEnvelope = (subject: string) =>
      createEnvelope({ type: 'notice.send', from: { member: '000.00.00.H49', system: 'vp-ubnd-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject, body: 'giả mạo' } });
    const unsigned = forgedEnvelope('unsigned');
    const foreignKey = forgedEnvelope('foreign key');
    const foreignSig = signBatch([Buffer.from(JSON.stringify(foreignKey))], (await PlatformKeystore.ephemeral()).signingKey, 60);
    // A genuinely signed record whose value is then edited.
    const genuine = forgedEnvelope('genuine');
    const genuineSig = signBatch([Buffer.from(JSON.stringify(genuine))], await bus.keys.signing('gateway', 'record'), 60);
    const edited = { ...genuine, data: { subject: 'edited', body: 'giả mạo' } };
    // A correctly signed record for one service dropped onto another service's topic.
    const misrouted = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.00.H49', service: 'leadership-notice' }, data: { subject: 'misrouted', body: 'x' } });
    const misroutedSig = signBatch([Buffer.from(JSON.stringify(misrouted))], await bus.keys.signing('gateway', 'record'), 60);
    // Genuinely signed and sealed for the runner, but its digest names other content (what a
    // gateway bug would produce): the runner checks the decrypted bytes against the digest.
    const wrongDigest = forgedEnvelope('wrong digest');
    const wrongDigestValue = JSON.stringify({ ...wrongDigest, payloadDigest: payloadDigest(JSON.stringify({ subject: 'other', body: 'giả mạo' })), data: sealerFor(bus.keys.publicKeys, 'runner').seal(JSON.stringify(wrongDigest.data)) });
    const wrongDigestSig = signBatch([Buffer.from(wrongDigestValue)], await bus.keys.signing('gateway', 'record'), 60);
    await producer.send({
      topic: topics.message('notice'),
      acks: -1,
      messages: [
        { value: JSON.stringify(unsigned), headers: { 'lgsp-id': unsigned.id } },
        { value: JSON.stringify(foreignKey), headers: { 'lgsp-id': foreignKey.id, ...foreignSig[0] } },
        { value: JSON.stringify(edited), headers: { 'lgsp-id': genuine.id, ...genuineSig[0] } },
        { value: JSON.stringify(misrouted), headers: { 'lgsp-id': misrouted.id, ...misroutedSig[0] } },
        { value: wrongDigestValue, headers: { 'lgsp-id': wrongDigest.id, ...wrongDigestSig[0] } },
        { value: 'not json at all', headers: {} },
      ],
    });
    await producer.disconnect();

    const dead = await readTopic(bus.config.kafkaBrokers, topics.deadLetter('relay'), 6);
    t.equal(dead.length, 6, 'all six dead-lettered');
    const reasons = dead.map((d) => d.headers['lgsp-dlq-reason']);
    t.ok(reasons.some((r) => /not signed/.test(r)), 'unsigned');
    t.ok(reasons.some((r) => /signature verification failed/.test(r)), 'foreign key');
    t.ok(reasons.some((r) => /tampered or forged/.test(r)), 'edited after signing');
    t.ok(reasons.some((r) => /addressed to service leadership-notice/.test(r)), 'misrouted');
    t.ok(reasons.some((r) => /payload digest mismatch/.test(r)), 'sealed payload not what its digest covers');
    const events = await readTopic(bus.config.kafkaBrokers, topics.events, 6);
    t.equal(events.filter((a) => JSON.parse(a.value).event === 'rejected').length, 6, 'each rejection audited');
    const received = bus.simulator.received.get('so-tp-qlvb') ?? [];
    t.equal(received.length, 0, 'nothing reached the destination');
    t.equal((await sender.status(genuine.id)).status, 404, 'a forged record does not create a message timeline');
  });

  await t.test('a failing receiver is retried with backoff, then delivered once', async (t) => {
    bus.simulator.modes.set('so-tp-qlvb', { mode: 'fail', remaining: 2, status: 503 });
    const r = await sender.send(notice('retry me'));
    t.equal(r.status, 202);
    const view = await statusOf(r.body.id, 'delivered');
    const events = view.events.map((e: { event: string }) => e.event);
    t.same(events, ['accepted', 'delivery_failed', 'delivery_failed', 'delivered']);
    t.match(view.events[1].detail, { connector: 'relay', attempt: 1, retryable: true, reason: /503/, nextAttemptAt: String });
    t.equal((bus.simulator.received.get('so-tp-qlvb') ?? []).filter((m) => m.id === r.body.id).length, 1, 'delivered exactly once');
    t.equal(await lastError(), null, 'the system took it: its error no longer shows as the connector\'s last one');
  });

  await t.test('a permanent refusal is dead-lettered at once with the reason', async (t) => {
    bus.simulator.modes.set('so-khdt-qlvb', { mode: 'reject' });
    const r = await sender.send(notice('refused', '000.00.24.H49'));
    const view = await statusOf(r.body.id, 'dead_lettered');
    // The connector's last error says which system failed, as the operator guide promises: a
    // connector serves many systems and "HTTP 422" alone does not say whom to call.
    t.match(await lastError(), /^000\.00\.24\.H49\/so-khdt-qlvb: .*422/);
    t.same(view.events.map((e: { event: string }) => e.event), ['accepted', 'dead_lettered'], 'one outcome event for the one attempt');
    t.match(view.events[1].detail, { connector: 'relay', attempt: 1, attempts: 1, retryable: false, reason: /422/ });
  });

  await t.test('exhausted retries are dead-lettered', async (t) => {
    bus.simulator.modes.set('xa-hoaphuoc-qlvb', { mode: 'down' });
    const r = await sender.send(notice('down', 'H49.242.10'));
    const view = await statusOf(r.body.id, 'dead_lettered');
    t.equal(view.events.filter((e: { event: string }) => e.event === 'delivery_failed').length, 2, 'two retried attempts');
    t.match(view.events.at(-1), { event: 'dead_lettered', detail: { attempt: 3 } }, 'the third attempt (retryMaxAttempts) is the dead-lettering one');
    t.match(view.events.at(-1).detail, { reason: /gave up after 3 attempts/ });
    const dead = await readTopic(bus.config.kafkaBrokers, topics.deadLetter('relay'), 7);
    t.ok(dead.some((d) => d.headers['lgsp-id'] === r.body.id && /503/.test(d.headers['lgsp-dlq-reason'])), 'in the DLQ with the reason header');
  });
});
