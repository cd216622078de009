// A key per purpose and per service (DESIGN §5): each service holds only its own private keys,
// every verifier reads the public keyset and accepts only keys of the purpose (and, for bus
// records, the writer) it expects, and a rotation reaches running services without a restart
// while the superseded key keeps verifying for the grace period.
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader } from 'jose';
import { testKafka } from './helpers/test-kafka.js';
import { AccessTokenVerifier, issueAccessToken } from '../services/platform/access-token.js';
import { ensureKeys, privateKeyFile, rotateKeys } from '../services/platform/key-files.js';
import { KEY_HOLDERS, type KeyPurpose, type KeyService } from '../services/platform/key-purposes.js';
import { PublicKeyset } from '../services/platform/public-keyset.js';
import { busRecordVerifier } from '../services/platform/record-writers.js';
import { signBatch, SIGNATURE_HEADER } from '../services/platform/record-signing.js';
import { topicsFor } from '../services/platform/topics.js';
import { createEnvelope } from '../services/platform/envelope.js';
import { messageEvent } from '../services/platform/bus-events.js';
import { AuditStore } from '../services/audit/audit-store.js';
import { verifyAuditChain } from '../services/audit/chain-verifier.js';
import { runKeysCommand } from '../services/cli/keys-command.js';
import { openTestDatabase } from './helpers/test-database.js';
import { createTestKeys } from './helpers/test-keys.js';
import { startTestBus, eventually, tokenEntryOf } from './helpers/test-bus.js';
import { readTopic } from './helpers/topic-reader.js';
import { writeConnectorSource } from './helpers/connector-source.js';

const ISSUER = 'http://127.0.0.1:8080';
const caller = { clientId: 'lgsp-operator', member: '000.00.00.H49', roles: ['operator' as const] };
const kidOf = (keys: { keys: Array<Record<string, unknown>> }, service: KeyService, purpose: KeyPurpose, current = true) =>
  keys.keys.filter((k) => k.lgsp_service === service && k.lgsp_purpose === purpose && (k.lgsp_superseded_at === undefined) === current).map((k) => String(k.kid));

t.test('first run: each service gets its own key directory, the keyset only public keys', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = await createTestKeys(dir);
  for (const [service, purposes] of Object.entries(KEY_HOLDERS)) {
    t.same(readdirSync(join(keys.keysDir, service)).sort(), purposes.map((p) => `${p}.json`).sort(), `${service} holds ${purposes.join(', ')} and nothing else`);
    for (const p of purposes) t.equal(statSync(join(keys.keysDir, service, `${p}.json`)).mode & 0o077, 0, `${service}/${p} is readable by its owner only`);
  }
  const jwks = JSON.parse(readFileSync(keys.jwksFile, 'utf8')) as { keys: Array<Record<string, unknown>> };
  t.equal(jwks.keys.length, 9, 'gateway 3 + runner 2 + console 1 + audit 1 signing keys, gateway and runner 1 payload-encryption key each');
  t.equal(new Set(jwks.keys.map((k) => k.kid)).size, 9, 'every key distinct');
  for (const k of jwks.keys) {
    t.notOk('d' in k, `${String(k.kid)} is public`);
    t.equal(k.use, k.lgsp_purpose === 'payload-encryption' ? 'enc' : 'sig');
  }
  t.same(kidOf(jwks, 'gateway', 'token').length, 1);
  t.same(await ensureKeys(keys.keysDir, keys.jwksFile), [], 'a second run changes nothing');

  t.throws(() => PublicKeyset.fromJwks({ keys: [{ ...jwks.keys[0], d: 'x' }] }), /private key material/, 'a keyset with a private member is refused');
  const runnerRecord = jwks.keys.find((k) => k.lgsp_service === 'runner')!;
  t.throws(() => PublicKeyset.fromJwks({ keys: [{ ...runnerRecord, lgsp_purpose: 'token' }] }), /holds no token key/, 'a runner key cannot be published as a token key');
  t.throws(() => PublicKeyset.fromJwks({ keys: [{ ...runnerRecord, lgsp_purpose: undefined }] }), /no valid lgsp_purpose/);
});

t.test('verifiers accept only keys of their purpose, records only from their writers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = await createTestKeys(dir);
  const sign = (service: KeyService, purpose: KeyPurpose) => keys.signing(service, purpose);

  const tokens = new AccessTokenVerifier(keys.publicKeys.resolver('token'), ISSUER);
  t.match(await tokens.verify(await issueAccessToken(await sign('gateway', 'token'), ISSUER, caller, 60)), { clientId: 'lgsp-operator' }, 'the gateway token key');
  for (const [service, purpose] of [['gateway', 'record'], ['runner', 'record'], ['runner', 'delivery'], ['audit', 'checkpoint']] as const) {
    await t.rejects(tokens.verify(await issueAccessToken(await sign(service, purpose), ISSUER, caller, 60)), /no token key/, `a token signed with the ${service} ${purpose} key is refused`);
  }

  const topics = topicsFor('kp.');
  const records = busRecordVerifier(keys.publicKeys, topics);
  const value = Buffer.from('{"id":"m1"}');
  const signedBy = async (service: KeyService, purpose: KeyPurpose) => signBatch([value], await sign(service, purpose), 60)[0];
  t.match(await records.verify(value, await signedBy('gateway', 'record'), topics.message('notice')), { ok: true }, 'a message signed by the gateway');
  t.match(await records.verify(value, await signedBy('gateway', 'record'), topics.retry('relay')), { ok: true }, 'a retry keeps the gateway signature');
  t.match(await records.verify(value, await signedBy('runner', 'record'), topics.message('notice')), { ok: false, reason: /signed by the runner service's key; only gateway may write there/ }, 'a runner key cannot write a message');
  t.match(await records.verify(value, await signedBy('console', 'record'), topics.message('notice')), { ok: false, reason: /console/ }, 'nor can the console key');
  t.match(await records.verify(value, await signedBy('gateway', 'token'), topics.events), { ok: false, reason: /no platform key/ }, 'a token key is no record key');
  t.match(await records.verify(value, await signedBy('runner', 'delivery'), topics.events), { ok: false }, 'nor is a delivery key');
  t.match(await records.verify(value, await signedBy('runner', 'record'), topics.events), { ok: true }, 'runner events');
  t.match(await records.verify(value, await signedBy('console', 'record'), topics.events), { ok: true }, 'console operator actions');
  t.match(await records.verify(value, await signedBy('runner', 'record'), topics.inbox), { ok: true }, 'runner inbox deposits');
  t.match(await records.verify(value, await signedBy('gateway', 'record'), topics.inbox), { ok: false }, 'the gateway writes no inbox deposits');
  t.match(await records.verify(value, await signedBy('gateway', 'record'), 'kp.some.other.topic'), { ok: false, reason: /no service may write/ }, 'deny by default');
  t.match(await records.verify(value, await signedBy('gateway', 'record')), { ok: false }, 'no topic, no writer check passes');

  // Checkpoints: only the audit service's checkpoint key.
  const db = await openTestDatabase(t, 'key-purposes');
  const store = new AuditStore(db);
  const envelope = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: {} });
  await store.appendBatch([messageEvent('accepted', envelope, 'gateway')]);
  await store.checkpoint(await sign('audit', 'checkpoint'));
  const checkpoints = keys.publicKeys.resolver('checkpoint', { archive: true });
  const recordKeys = keys.publicKeys.lookup('record', { archive: true });
  t.match(await verifyAuditChain(db.pool, checkpoints, recordKeys), { ok: true, checkpoints: 1 }, 'signed by the checkpoint key');
  await store.appendBatch([messageEvent('delivered', envelope, 'runner')]);
  await store.checkpoint(await sign('gateway', 'record'));
  t.match(await verifyAuditChain(db.pool, checkpoints, recordKeys), { ok: false, firstBad: { seq: 2, reason: /checkpoint signature does not verify \(no checkpoint key/ } }, 'a checkpoint signed with a record key is forged');
});

t.test('rotation: published first, the old key verifies for the grace period only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keys = await createTestKeys(dir);
  const oldKey = await keys.signing('runner', 'delivery');
  const rotatedAt = Date.now() - 3600_000;
  const [rotated] = await rotateKeys(keys.keysDir, keys.jwksFile, { service: 'runner', purpose: 'delivery' }, () => rotatedAt);
  t.match(rotated, { service: 'runner', purpose: 'delivery', previous: oldKey.kid });
  t.equal((await keys.signing('runner', 'delivery')).kid, rotated.kid, 'the runner signs with the new key');
  const file = JSON.parse(readFileSync(privateKeyFile(keys.keysDir, 'runner', 'delivery'), 'utf8')) as { keys: Array<{ kid: string }> };
  t.same(file.keys.map((k) => k.kid), [rotated.kid], 'the superseded private key is gone from the service');
  t.equal(JSON.parse(readFileSync(privateKeyFile(keys.keysDir, 'runner', 'record'), 'utf8')).keys.length, 1, 'other keys untouched');

  const jwks = JSON.parse(readFileSync(keys.jwksFile, 'utf8'));
  const within = PublicKeyset.fromJwks(jwks, { graceSeconds: 7200 });
  const past = PublicKeyset.fromJwks(jwks, { graceSeconds: 1800 });
  t.ok(within.lookup('delivery')(oldKey.kid), 'within the grace period the old key verifies');
  t.same(within.jwks({ purpose: 'delivery' }).keys.map((k) => k.kid).sort(), [...kidOf(jwks, 'gateway', 'delivery'), rotated.kid, oldKey.kid].sort(), 'and is published');
  t.notOk(past.lookup('delivery')(oldKey.kid), 'past it, live verification refuses it');
  t.notOk(past.jwks().keys.some((k) => k.kid === oldKey.kid), 'and the JWKS no longer serves it');
  t.ok(past.lookup('delivery', { archive: true })(oldKey.kid), 'archive verification (the audit chain) still knows it');
  t.ok(past.lookup('delivery')(rotated.kid));
});

t.test('lgsp keys: usage errors', async (t) => {
  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  t.equal(await runKeysCommand(['rotate', '--purpose', 'everything'], out), 2);
  t.match(lines.join('\n'), /--purpose must be one of token, record, delivery, checkpoint/);
  t.equal(await runKeysCommand(['rotate', '--service', 'mallory'], out), 2);
  t.equal(await runKeysCommand(['burn'], out), 2);
  t.equal(await runKeysCommand(['init', 'extra'], out), 2);
});

t.test('lgsp keys init and rotate on the configured files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-keys-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const saved = { dir: process.env.LGSP_KEYS_DIR, jwks: process.env.LGSP_JWKS_FILE };
  process.env.LGSP_KEYS_DIR = join(dir, 'keys');
  process.env.LGSP_JWKS_FILE = join(dir, 'public', 'jwks.json');
  t.teardown(() => {
    for (const [name, value] of [['LGSP_KEYS_DIR', saved.dir], ['LGSP_JWKS_FILE', saved.jwks]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  t.equal(await runKeysCommand(['init'], out), 0);
  t.equal(lines.filter((l) => l.startsWith('created ')).length, 9);
  const before = JSON.parse(readFileSync(join(dir, 'public', 'jwks.json'), 'utf8'));
  lines.length = 0;
  const rotatedAt = Date.now();
  t.equal(await runKeysCommand(['rotate', '--service', 'console'], out), 0, lines.join('\n'));
  t.match(lines[0], new RegExp(`^console record: new key \\S+ \\(replaces ${kidOf(before, 'console', 'record')[0]}`));
  // The grace period in days, as LGSP_KEY_GRACE_SECONDS' default is meant, and the moment it ends.
  const [, until] = /, which verifies for 8 days more, until (\S+)\)$/.exec(lines[0]) ?? [];
  t.ok(until, `the grace period said in days, with its end: ${lines[0]}`);
  t.ok(Math.abs(Date.parse(until) - (rotatedAt + 8 * 86400_000)) < 5000, `${until} is 8 days after the rotation`);
  t.notMatch(lines[0], /\d s\b/, 'not in seconds');
  // Only a signing key was rotated: the closing line says nothing of decryption keys.
  t.equal(lines.length, 2, lines.join('\n'));
  t.match(lines[1], /^the new signing key was published in \S+ before its private file changed; running services take it within a few seconds, without a restart \(LGSP_KEYS_WATCH_MS\)$/);
  const after = JSON.parse(readFileSync(join(dir, 'public', 'jwks.json'), 'utf8'));
  t.equal(after.keys.length, 10, 'one more key, the old one still published');
  t.same(kidOf(after, 'console', 'record', false), kidOf(before, 'console', 'record'));
  // A purpose the service does not hold: said with who holds it, and nothing is rotated.
  lines.length = 0;
  t.equal(await runKeysCommand(['rotate', '--service', 'console', '--purpose', 'token'], out), 2);
  t.same(lines, ['lgsp keys: the console service holds no token key; token keys are held by gateway. Keys each service holds: gateway: token, record, delivery, payload-encryption; runner: record, delivery, payload-encryption; console: record; audit: checkpoint']);
  t.same(JSON.parse(readFileSync(join(dir, 'public', 'jwks.json'), 'utf8')), after, 'the keyset is left as it was');
  // A decryption key is kept beside its successor; one whose file was lost is said to be gone.
  lines.length = 0;
  t.equal(await runKeysCommand(['rotate', '--service', 'gateway', '--purpose', 'payload-encryption'], out), 0, lines.join('\n'));
  t.match(lines[0], /^gateway payload-encryption: new key \S+ \(replaces \S+, which stays in the private file and still decrypts/);
  t.match(lines[1], /^the new decryption key was written to its private file before \S+ named it; running services take it within a few seconds, without a restart \(LGSP_KEYS_WATCH_MS\)$/, 'only a decryption key: nothing said of signing keys');
  const keyring = join(dir, 'keys', 'gateway', 'payload-encryption.json');
  t.equal(JSON.parse(readFileSync(keyring, 'utf8')).keys.length, 2, 'both keys in the private file');
  rmSync(keyring);
  lines.length = 0;
  t.equal(await runKeysCommand(['rotate', '--service', 'gateway', '--purpose', 'payload-encryption'], out), 0, lines.join('\n'));
  t.match(lines[0], /which the private file no longer held: what was sealed for it cannot be decrypted here/, 'a lost key is not said to be kept');
  t.equal(JSON.parse(readFileSync(keyring, 'utf8')).keys.length, 1);
  // Both kinds, and a grace period that is not a whole number of days.
  lines.length = 0;
  const savedGrace = process.env.LGSP_KEY_GRACE_SECONDS;
  process.env.LGSP_KEY_GRACE_SECONDS = String(7 * 86400 + 3 * 3600 + 46 * 60 + 40);
  try {
    t.equal(await runKeysCommand(['rotate', '--service', 'runner'], out), 0, lines.join('\n'));
  } finally {
    if (savedGrace === undefined) delete process.env.LGSP_KEY_GRACE_SECONDS;
    else process.env.LGSP_KEY_GRACE_SECONDS = savedGrace;
  }
  t.equal(lines.length, 4, lines.join('\n'));
  t.match(lines.find((l) => l.startsWith('runner record:')), /, which verifies for 7 days 3 h 46 min 40 s more, until \S+\)$/);
  t.match(lines.find((l) => l.startsWith('runner payload-encryption:')), /which stays in the private file and still decrypts/);
  t.match(lines[3], /^the new decryption key was written to its private file before \S+ named it, the new signing keys published there before their private files changed; running services take them within a few seconds, without a restart \(LGSP_KEYS_WATCH_MS\)$/);
  lines.length = 0;
  t.equal(await runKeysCommand(['rotate', '--service', 'runner', '--purpose', 'token'], out), 2, 'the runner holds no token key');
  t.match(lines.join('\n'), /the runner service holds no token key/);
});

t.test('on a running bus', async (t) => {
  // Services watch their key files and the keyset this often (read when they open them).
  process.env.LGSP_KEYS_WATCH_MS = '100';
  const bus = await startTestBus(t, { name: 'key-purposes' });
  delete process.env.LGSP_KEYS_WATCH_MS;
  const topics = topicsFor(bus.config.topicPrefix);
  const sender = bus.client('so-tttt-qlvb');
  const gatewayJwks = async (query = '') => {
    const r = await fetch(`${bus.gateway.url}/.well-known/jwks.json${query}`);
    return { status: r.status, type: r.headers.get('content-type'), body: (await r.json()) as { keys: Array<Record<string, unknown>> } };
  };
  const notice = (subject: string) => ({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject, body: 'Nội dung' } });
  const deliveredTo = (id: string) => eventually(() => (bus.simulator.received.get('so-tp-qlvb') ?? []).find((m) => m.id === id), 20_000);

  await t.test('the JWKS names each key\'s purpose and owner', async (t) => {
    const all = await gatewayJwks();
    t.equal(all.body.keys.length, 7);
    t.same(new Set(all.body.keys.map((k) => `${String(k.lgsp_service)}/${String(k.lgsp_purpose)}`)), new Set(['gateway/token', 'gateway/record', 'gateway/delivery', 'runner/record', 'runner/delivery', 'console/record', 'audit/checkpoint']));
    const delivery = await gatewayJwks('?purpose=delivery');
    t.same(delivery.body.keys.map((k) => k.lgsp_purpose), ['delivery', 'delivery'], 'receivers can ask for delivery keys only');
    const bad = await gatewayJwks('?purpose=everything');
    t.equal(bad.status, 400);
    t.match(bad.type, /application\/problem\+json/);
  });

  await t.test('an access token signed with another purpose\'s key is refused with 401', async (t) => {
    const call = async (token: string) => fetch(`${bus.gateway.url}/v1/services`, { headers: { authorization: `Bearer ${token}` } });
    const bound = { ...caller, entry: tokenEntryOf(bus.clients.get(caller.clientId)!) };
    const good = await call(await issueAccessToken(await bus.keys.signing('gateway', 'token'), bus.config.issuer, bound, 60));
    t.equal(good.status, 200, 'the token key');
    for (const [service, purpose] of [['gateway', 'record'], ['runner', 'record'], ['audit', 'checkpoint']] as const) {
      const r = await call(await issueAccessToken(await bus.keys.signing(service, purpose), bus.config.issuer, bound, 60));
      t.equal(r.status, 401, `${service} ${purpose} key`);
      t.match(r.headers.get('content-type'), /application\/problem\+json/);
    }
  });

  await t.test('a message record signed by a runner key (or a token key) is dead-lettered, never delivered', async (t) => {
    const kafka = testKafka('forger');
    const producer = kafka.producer();
    await producer.connect();
    const forged = (subject: string) =>
      createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject, body: 'giả mạo' } });
    const byRunner = forged('signed by the runner');
    const byTokenKey = forged('signed by the token key');
    const runnerSig = signBatch([Buffer.from(JSON.stringify(byRunner))], await bus.keys.signing('runner', 'record'), 60);
    const tokenSig = signBatch([Buffer.from(JSON.stringify(byTokenKey))], await bus.keys.signing('gateway', 'token'), 60);
    await producer.send({
      topic: topics.message('notice'),
      acks: -1,
      messages: [
        { value: JSON.stringify(byRunner), headers: { 'lgsp-id': byRunner.id, ...runnerSig[0] } },
        { value: JSON.stringify(byTokenKey), headers: { 'lgsp-id': byTokenKey.id, ...tokenSig[0] } },
      ],
    });
    await producer.disconnect();
    const dead = await readTopic(bus.config.kafkaBrokers, topics.deadLetter('relay'), 2);
    const reasonOf = (id: string) => dead.find((d) => d.headers['lgsp-id'] === id)?.headers['lgsp-dlq-reason'];
    t.match(reasonOf(byRunner.id), /signed by the runner service's key; only gateway may write there/);
    t.match(reasonOf(byTokenKey.id), /no platform key/);
    const events = await readTopic(bus.config.kafkaBrokers, topics.events, 2);
    t.equal(events.filter((a) => JSON.parse(a.value).event === 'rejected').length, 2, 'both audited as rejected');
    // A genuine message sent after them is delivered: the forged ones were not simply slow.
    const r = await sender.send(notice('genuine'));
    await deliveredTo(r.body.id);
    const received = bus.simulator.received.get('so-tp-qlvb') ?? [];
    t.notOk(received.some((m) => m.id === byRunner.id || m.id === byTokenKey.id), 'neither reached the destination');
    t.equal((await sender.status(byRunner.id)).status, 404, 'no timeline for the forged message');
  });

  await t.test('rotation while the bus runs: new keys sign without a restart, the JWKS lists both', async (t) => {
    const before = await gatewayJwks();
    const oldRecord = kidOf(before.body, 'gateway', 'record')[0];
    const oldDelivery = kidOf(before.body, 'runner', 'delivery')[0];
    const oldToken = kidOf(before.body, 'gateway', 'token')[0];
    const first = await sender.send(notice('before the rotation'));
    t.equal((await deliveredTo(first.body.id)).signedBy, oldDelivery, 'delivered with the old delivery key');
    const oldTokenCaller = bus.client('so-tttt-qlvb'); // holds a token from the old key from here on
    t.equal((await oldTokenCaller.request('GET', '/v1/services')).status, 200);

    const rotated = await rotateKeys(bus.keys.keysDir, bus.keys.jwksFile);
    t.equal(rotated.length, 9, 'every key renewed');
    const kid = (service: KeyService, purpose: KeyPurpose) => rotated.find((r) => r.service === service && r.purpose === purpose)!.kid;

    const after = await eventually(async () => {
      const j = await gatewayJwks();
      return j.body.keys.length === 14 ? j : null;
    }, 5000);
    t.ok(after.body.keys.some((k) => k.kid === kid('gateway', 'record')) && after.body.keys.some((k) => k.kid === oldRecord), 'the running gateway\'s JWKS lists old and new keys');
    t.same(kidOf(after.body, 'gateway', 'record', false), [oldRecord], 'the old one marked superseded');

    // The watch interval is 100 ms: give every service a few turns, then a message must be
    // signed end to end with the new keys.
    await new Promise((r) => setTimeout(r, 1000));
    const second = await sender.send(notice('after the rotation'));
    t.equal(second.status, 202);
    t.equal((await deliveredTo(second.body.id)).signedBy, kid('runner', 'delivery'), 'delivered with the new delivery key');
    const onTopic = await eventually(async () => {
      const records = await readTopic(bus.config.kafkaBrokers, topics.message('notice'), 1, 3000);
      return records.find((rec) => JSON.parse(rec.value).id === second.body.id);
    });
    t.equal(decodeProtectedHeader(onTopic.headers[SIGNATURE_HEADER]).kid, kid('gateway', 'record'), 'the message record carries the new gateway record key');
    t.equal(decodeProtectedHeader(JSON.parse(onTopic.value).data).kid, kid('runner', 'payload-encryption'), 'its payload is sealed for the runner\'s new payload-encryption key');
    const sealedBefore = (await readTopic(bus.config.kafkaBrokers, topics.message('notice'), 1, 3000)).find((rec) => JSON.parse(rec.value).id === first.body.id)!;
    t.not(decodeProtectedHeader(JSON.parse(sealedBefore.value).data).kid, kid('runner', 'payload-encryption'), 'the record before the rotation was sealed for the old key');
    t.match(bus.keys.openPayload('runner', JSON.parse(sealedBefore.value).data), { subject: 'before the rotation' }, 'and the runner still opens it (earlier keys are kept)');
    const status = await eventually(async () => {
      const s = await sender.status(second.body.id);
      return s.body.status === 'delivered' ? s : null;
    });
    t.equal(status.body.status, 'delivered', 'runner events signed with its new record key reach the gateway');

    const fresh = bus.client('so-tttt-qlvb');
    const token = await fresh.accessToken();
    t.equal(decodeProtectedHeader(token).kid, kid('gateway', 'token'), 'new tokens carry the new token key');
    t.not(kid('gateway', 'token'), oldToken);
    t.equal((await oldTokenCaller.request('GET', '/v1/services')).status, 200, 'a token from the old key verifies through the grace period');
  });
});

t.test('nothing the SDK hands a connector is a key', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lgsp-key-probe-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const sdk = fileURLToPath(new URL('../connectors/sdk/index.js', import.meta.url));
  const dir = join(root, 'connectors');
  const write = (file: string, content: unknown) => {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  };
  write(join(root, 'package.json'), { type: 'module', private: true });
  write(join(dir, 'key-probe', 'connector.json'), { name: 'key-probe', entry: './index', messageTypes: [{ type: 'key.probe', schema: './schemas/key.probe.schema.json' }] });
  write(join(dir, 'key-probe', 'schemas', 'key.probe.schema.json'), {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://lgsp.example.gov.vn/schemas/messages/key.probe.schema.json',
    type: 'object',
    additionalProperties: false,
    properties: { text: { type: 'string' } },
    examples: [{ text: 'x' }],
  });
  // Walks everything reachable from ctx (properties, getters, prototypes' own data) looking for
  // key material: node:crypto KeyObjects, WebCrypto CryptoKeys, JWKs with a private member.
  writeConnectorSource(join(dir, 'key-probe', 'index.ts'), `import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { defineConnector } from '${sdk}';
function probe(root: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string, depth: number) => {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 6) return;
    seen.add(v);
    if (v instanceof KeyObject || (typeof CryptoKey !== 'undefined' && v instanceof CryptoKey)) { found.push(path); return; }
    if (typeof v === 'object' && typeof (v as { d?: unknown }).d === 'string' && 'kty' in (v as object)) { found.push(path); return; }
    for (const key of Reflect.ownKeys(v as object)) {
      let child: unknown;
      try { child = (v as Record<string | symbol, unknown>)[key as string]; } catch { continue; }
      walk(child, path + '.' + String(key), depth + 1);
    }
  };
  walk(root, 'ctx', 0);
  return found;
}
export default defineConnector({
  name: 'key-probe',
  async handle(_message, ctx) {
    // The probe itself must find a key where there is one, or an empty answer proves nothing.
    const planted = probe({ deep: { inside: { key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey } } });
    return { detail: { keysReachable: probe(ctx), plantedFound: planted.length } };
  },
});
`);
  const bus = await startTestBus(t, {
    name: 'key-probe',
    connectors: ['key-probe'],
    config: { connectorDirs: [dir] },
    registry: (registry) => {
      registry.services.push({ code: 'key-probe', provider: '000.00.00.H49', system: 'vp-ubnd-qlvb', connector: 'key-probe', messageTypes: ['key.probe'] });
      registry.accessRights.push({ client: 'so-tttt-qlvb', service: 'key-probe', provider: '000.00.00.H49' });
    },
  });
  const sender = bus.client('so-tttt-qlvb');
  const sent = await sender.send({ type: 'key.probe', to: { member: '000.00.00.H49', service: 'key-probe' }, payload: { text: 'x' } });
  t.equal(sent.status, 202);
  const view = await eventually(async () => {
    const s = await sender.status(sent.body.id);
    return s.body.status === 'delivered' ? s.body : null;
  });
  const delivered = view.events.find((e: { event: string }) => e.event === 'delivered');
  t.equal(delivered.detail.plantedFound, 1, 'the probe finds a key planted in an object');
  t.same(delivered.detail.keysReachable, [], 'no key object or private JWK reachable from ctx');
});
