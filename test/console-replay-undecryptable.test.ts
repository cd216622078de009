// The operator guide's incident "a payload-encryption key is lost", step 1: restore the runner's
// key file from the backup, then replay the dead letters from the console. Those dead letters
// (reason `rejected: payload cannot be decrypted: …`) were refused by the console as
// `409 NOT_REPLAYABLE` ("refused by the runner's checks; a replay would be refused again"), and a
// bulk replay counted them as never replayable: the messages the key's restore was meant to save
// could only be sent again by their senders. The record is genuine (its signature verified before
// the runner tried to open it) and the refusal goes away with the key, so it is replayable; the
// runner's other refusals (forged, unsigned, misrouted) still are not. And the message's status
// said nothing of it: it stayed `accepted` (or `failed`, retrying) for good, the runner attaching
// no event to a record it refused; a genuine one's timeline now says `dead_lettered`. (Met walking
// the guide on a stack whose runner key file was lost while messages waited for a receiving system.)
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { startConsole } from '../services/console/console-service.js';
import { createEnvelope } from '../services/platform/envelope.js';
import { PayloadSealer } from '../services/platform/payload-jwe.js';
import { signBatch } from '../services/platform/record-signing.js';
import { privateKeyFile } from '../services/platform/key-files.js';
import { consoleSession } from './helpers/console-session.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { testKafka } from './helpers/test-kafka.js';

t.test('a dead letter the runner could not decrypt is replayed once its key is restored', async (t) => {
  // Services watch their key files this often (read when they open them).
  process.env.LGSP_KEYS_WATCH_MS = '100';
  const bus = await startTestBus(t, { name: 'console-replay-undecryptable' });
  delete process.env.LGSP_KEYS_WATCH_MS;
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());
  const call = await consoleSession(consoleSvc.url, bus.clients.get('lgsp-operator')!.clientSecret);

  // A genuine notice (signed with the gateway's record key) sealed for a runner key the runner's
  // file no longer holds: the key lost, as in the incident.
  const lostKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const lostKid = 'the-lost-runner-key';
  const sealer = new PayloadSealer(() => ({ kid: lostKid, key: lostKey.publicKey }));
  const envelope = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 'sealed for the lost key', body: 'x' } });
  const value = JSON.stringify({ ...envelope, data: sealer.seal(JSON.stringify(envelope.data)) });
  const [signature] = signBatch([value], await bus.keys.signing('gateway', 'record'), 600);
  const producer = testKafka('lost-key-sender').producer();
  await producer.connect();
  await producer.send({ topic: `${bus.config.topicPrefix}lgsp.msg.notice`, acks: -1, messages: [{ key: `000.00.15.H49:${envelope.id}`, value, headers: { 'lgsp-id': envelope.id, 'lgsp-type': envelope.type, ...signature } }] });
  await producer.disconnect();

  const dl = await eventually(async () => (await call('GET', `/v1/console/dead-letters?messageId=${envelope.id}`)).body.items[0], 30_000, 200);
  t.match(dl.reason, /^rejected: payload cannot be decrypted: no payload-encryption key with kid the-lost-runner-key/, 'dead-lettered with the reason the guide names');
  t.notOk((bus.simulator.received.get('so-tp-qlvb') ?? []).some((m) => m.id === envelope.id), 'not delivered while the key is lost');
  // The record is genuine, so its message's timeline says so (it kept its earlier status for good).
  const lost = await eventually(async () => {
    const trace = (await call('GET', `/v1/console/messages/${envelope.id}`)).body;
    return trace?.message?.status === 'dead_lettered' ? trace : null;
  }, 30_000, 200);
  t.match(lost.message.lastReason, /payload cannot be decrypted/, 'with the reason');

  // Step 1: the key file restored from the backup (the lost key back beside the current one).
  const file = privateKeyFile(bus.keys.keysDir, 'runner', 'payload-encryption');
  const ring = JSON.parse(readFileSync(file, 'utf8')) as { keys: unknown[] };
  writeFileSync(file, JSON.stringify({ keys: [{ kid: lostKid, createdAt: new Date(Date.now() - 86_400_000).toISOString(), privateJwk: lostKey.privateKey.export({ format: 'jwk' }) }, ...ring.keys] }), { mode: 0o600 });
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // the runner reads the file again within LGSP_KEYS_WATCH_MS

  const dry = await call('POST', '/v1/console/dead-letters/replay', { dryRun: true, reason: 'cannot be decrypted' });
  t.same(dry.body, { wouldReplay: 1, replayable: 1, notReplayable: 0 }, 'a bulk replay counts it as replayable');
  const replay = await call('POST', `/v1/console/dead-letters/${dl.id}/replay`);
  t.equal(replay.status, 202, JSON.stringify(replay.body));
  const received = await eventually(() => (bus.simulator.received.get('so-tp-qlvb') ?? []).find((m) => m.id === envelope.id), 30_000, 200);
  t.ok(received, 'delivered after the replay');
  await eventually(async () => (await call('GET', `/v1/console/messages/${envelope.id}`)).body.message?.status === 'delivered', 30_000, 200);

  // The runner's other refusals stay unreplayable: a record signed by no platform key.
  const forged = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 'forged', body: 'x' } });
  const forgedValue = JSON.stringify(forged);
  const [runnerSig] = signBatch([forgedValue], await bus.keys.signing('runner', 'record'), 600);
  const forger = testKafka('forger').producer();
  await forger.connect();
  await forger.send({ topic: `${bus.config.topicPrefix}lgsp.msg.notice`, acks: -1, messages: [{ value: forgedValue, headers: { 'lgsp-id': forged.id, ...runnerSig } }] });
  await forger.disconnect();
  // Its claimed id is not trusted (no messageId is kept for it): found by the runner's reason.
  const forgedDl = await eventually(async () => (await call('GET', '/v1/console/dead-letters?reason=only%20gateway%20may%20write')).body.items[0], 30_000, 200);
  t.match(forgedDl.reason, /^rejected: /);
  const refused = await call('POST', `/v1/console/dead-letters/${forgedDl.id}/replay`);
  t.equal(refused.status, 409);
  t.equal(refused.body.code, 'NOT_REPLAYABLE');
  t.match(refused.body.detail, /refused by the runner's checks/, 'refused as before');
});
