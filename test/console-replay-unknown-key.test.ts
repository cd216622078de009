// A keys directory restored from a copy made before a rotation (the disaster-recovery drill): the
// runner refused every genuine record signed with the newer key, `rejected: signature
// verification failed: no platform key with kid …`, and once the keyset was put right the console
// still refused to replay those dead letters (409 NOT_REPLAYABLE, "a replay would be refused
// again"), and a bulk replay counted them as never replayable: the messages could only be sent
// again by their senders. The refusal goes away with the keyset, so they may be replayed; the
// replay verifies the record again against the keyset of then, so one signed by no platform key
// is still refused.
import t from 'tap';
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { startConsole } from '../services/console/console-service.js';
import { createEnvelope } from '../services/platform/envelope.js';
import { signBatch } from '../services/platform/record-signing.js';
import { generateSigningJwk, PlatformKeystore, type SigningKey } from '../services/platform/keystore.js';
import { rotateKeys, privateKeyFile } from '../services/platform/key-files.js';
import { consoleSession } from './helpers/console-session.js';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { testKafka } from './helpers/test-kafka.js';

t.test('a dead letter refused for a key the keyset lacked is replayed once the keyset is put right', async (t) => {
  process.env.LGSP_KEYS_WATCH_MS = '100';
  const bus = await startTestBus(t, { name: 'console-replay-unknown-key' });
  delete process.env.LGSP_KEYS_WATCH_MS;
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());
  const call = await consoleSession(consoleSvc.url, bus.clients.get('lgsp-operator')!.clientSecret);

  // The gateway's record key rotated, then the keyset put back as an older copy had it.
  const older = readFileSync(bus.keys.jwksFile, 'utf8');
  const [rotated] = await rotateKeys(bus.keys.keysDir, bus.keys.jwksFile, { service: 'gateway', purpose: 'record' });
  const rotatedKeyset = readFileSync(bus.keys.jwksFile, 'utf8');
  const newKey = (await PlatformKeystore.open(privateKeyFile(bus.keys.keysDir, 'gateway', 'record'), { watchIntervalMs: 0 })).signingKey;
  t.equal(newKey.kid, rotated.kid);
  writeFileSync(bus.keys.jwksFile, older);
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  // A genuine notice signed with the newer key, which the restored keyset lacks.
  const send = async (value: string, signature: Record<string, string>, id: string) => {
    const producer = testKafka('unknown-key-sender').producer();
    await producer.connect();
    await producer.send({ topic: `${bus.config.topicPrefix}lgsp.msg.notice`, acks: -1, messages: [{ key: `000.00.15.H49:${id}`, value, headers: { 'lgsp-id': id, 'lgsp-type': 'notice.send', ...signature } }] });
    await producer.disconnect();
  };
  const envelope = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 'signed after the rotation', body: 'x' } });
  const value = JSON.stringify(envelope);
  const [signature] = signBatch([value], newKey, 600);
  await send(value, signature, envelope.id);
  const dl = await eventually(async () => (await call('GET', `/v1/console/dead-letters?reason=${encodeURIComponent(rotated.kid)}`)).body.items[0], 30_000, 200);
  t.match(dl.reason, /^rejected: signature verification failed: no platform key with kid /, 'refused for the key the keyset lacks');
  t.notOk((bus.simulator.received.get('so-tp-qlvb') ?? []).some((m) => m.id === envelope.id), 'not delivered meanwhile');

  // A record signed by no platform key at all, refused the same way.
  const strangerJwk = await generateSigningJwk();
  // signBatch signs with the node:crypto form only.
  const strangerKey = { kid: strangerJwk.kid, alg: 'ES256', keyObject: createPrivateKey({ key: strangerJwk.privateJwk as JsonWebKey, format: 'jwk' }) } as SigningKey;
  const forged = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 'forged', body: 'x' } });
  const forgedValue = JSON.stringify(forged);
  const [forgedSignature] = signBatch([forgedValue], strangerKey, 600);
  await send(forgedValue, forgedSignature, forged.id);
  const forgedDl = await eventually(async () => (await call('GET', `/v1/console/dead-letters?reason=${encodeURIComponent(strangerJwk.kid)}`)).body.items[0], 30_000, 200);

  // The keyset put right: the newer key published again.
  writeFileSync(bus.keys.jwksFile, rotatedKeyset);
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // read again within LGSP_KEYS_WATCH_MS; the unknown-kid cooldown (1 s) over

  const dry = await call('POST', '/v1/console/dead-letters/replay', { dryRun: true, reason: 'no platform key with kid' });
  t.same(dry.body, { wouldReplay: 2, replayable: 2, notReplayable: 0 }, 'a bulk replay counts both as maybe replayable (each is verified again when replayed)');
  const replay = await call('POST', `/v1/console/dead-letters/${dl.id}/replay`);
  t.equal(replay.status, 202, JSON.stringify(replay.body));
  const received = await eventually(() => (bus.simulator.received.get('so-tp-qlvb') ?? []).find((m) => m.id === envelope.id), 30_000, 200);
  t.ok(received, 'delivered after the replay');

  const refused = await call('POST', `/v1/console/dead-letters/${forgedDl.id}/replay`);
  t.equal(refused.status, 409, 'a record no platform key signed is still refused');
  t.equal(refused.body.code, 'NOT_REPLAYABLE');
  t.match(refused.body.detail, /no platform key with kid/);
});
