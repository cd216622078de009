// The audit service against a real Kafka broker: it reads the bus itself — a message record on
// lgsp.msg.* becomes its 'accepted' entry (without the payload), signed events on lgsp.events are
// chained as sent — each entry keeps the record's signature, untrusted records become 'rejected'
// entries, the API is for operators only, and `lgsp audit verify` catches a store edited after
// the fact, even with the hash chain recomputed.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { databaseClientConfig } from '../services/platform/database-connection.js';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { loadConfig } from '../services/platform/config.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { BatchingProducer, ensureTopics } from '../services/platform/kafka-transport.js';
import { eventRecords, messageEvent, type BusEvent } from '../services/platform/bus-events.js';
import { GENESIS_HASH, entryHash } from '../services/audit/audit-store.js';
import { canonicalJson } from '../services/platform/canonical-json.js';
import { topicsFor } from '../services/platform/topics.js';
import { issueAccessToken } from '../services/platform/access-token.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { runAuditVerify } from '../services/audit/verify-command.js';
import { createTestDatabase } from './helpers/test-database.js';
import { grantTestAcls, testKafka, testKafkaSettings } from './helpers/test-kafka.js';
import { createTestKeys } from './helpers/test-keys.js';
import { privateKeyFile } from '../services/platform/key-files.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

async function eventually<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const envelope = (member: string) => ({
  id: uuidv7(),
  type: 'notice.send',
  from: { member: '000.00.14.H49', system: 'qlvb-so-noi-vu' },
  to: { member, service: 'notices' },
  correlationId: uuidv7(),
  payloadDigest: 'sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
});

/** A signed message record as a gateway produces it: the envelope with its payload. */
const messageRecord = (env: ReturnType<typeof envelope>, topic: string) => ({
  topic,
  key: `${env.to.member}:${env.correlationId}`,
  value: JSON.stringify({ ...env, specversion: '1.0', source: 'urn:lgsp:gateway', time: new Date().toISOString(), datacontenttype: 'application/json', payload: { subject: 'Nguyễn Văn A, CCCD 001099012345' } }),
  headers: { 'lgsp-id': env.id, 'lgsp-type': env.type },
});

t.test('audit service over real Kafka', async (t) => {
  const dataDir = t.testdir();
  const keys = await createTestKeys(dataDir);
  const keysFile = keys.jwksFile;
  const database = await createTestDatabase('audit-service');
  t.teardown(() => database.drop());
  const config = loadConfig(
    {
      ...testKafkaSettings(),
      dataDir,
      keysDir: keys.keysDir,
      jwksFile: keys.jwksFile,
      databaseUrl: database.url,
      topicPrefix: `t${Date.now()}-${process.pid}-`,
      topicPartitions: 2,
      issuer: 'http://127.0.0.1:8080',
      logLevel: 'silent',
      checkpointIntervalMs: 200,
      // Six entries are "a long chain" here: its integrity checks start from the seal of a full pass.
      auditFullVerifyMaxEntries: 4,
    },
    {},
  );
  const topics = topicsFor(config.topicPrefix);

  await grantTestAcls(config.topicPrefix);
  // The work topic exists before the audit starts, as the registry's topics do on a real bus.
  const setup = testKafka('audit-test-setup').admin();
  await setup.connect();
  await ensureTopics(setup, [topics.message('notices')], 2);
  await setup.disconnect();
  const audit = await startAuditService(config);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await audit.stop();
  });

  // --- produce: signed events (one of them twice), an unsigned, a forged and a malformed record
  const kafka = testKafka('audit-test');
  const producerOpts = { lingerMs: 2, maxBatch: 100, ttlSeconds: 300 };
  const runnerKey = await keys.signing('runner', 'record');
  const producer = new BatchingProducer(kafka, () => runnerKey, producerOpts);
  // Message records are the gateway's to write (record-writers.ts): signed with its record key.
  const gatewayKey = await keys.signing('gateway', 'record');
  const gateway = new BatchingProducer(kafka, () => gatewayKey, producerOpts);
  const intruder = await PlatformKeystore.ephemeral();
  const forger = new BatchingProducer(kafka, () => intruder.signingKey, producerOpts);
  const raw = kafka.producer();
  await Promise.all([producer.connect(), gateway.connect(), forger.connect(), raw.connect()]);
  t.teardown(async () => {
    await Promise.all([producer.disconnect(), gateway.disconnect(), forger.disconnect(), raw.disconnect()]);
  });
  const message = envelope('000.00.15.H49');
  const work = topics.message('notices');
  const outcomes = [
    messageEvent('delivery_failed', message, 'runner/relay', { connector: 'relay', attempt: 1, reason: 'HTTP 503', retryable: true }),
    messageEvent('delivered', message, 'runner/relay', { connector: 'relay', attempt: 2, httpStatus: 200 }),
  ];
  // The message record is read from its work topic: the audit needs no copy of anything.
  const record = messageRecord(message, work);
  await gateway.send([record]);
  await producer.send(outcomes.flatMap((ev) => eventRecords(topics, ev)));
  await gateway.send([record]); // the same message record again (a replay): still one entry
  const unsignedMessage = messageRecord(envelope('000.00.16.H49'), work);
  await raw.send({ topic: work, acks: -1, messages: [{ key: unsignedMessage.key, value: unsignedMessage.value }] });
  await forger.send(eventRecords(topics, messageEvent('delivered', envelope('000.00.16.H49'), 'mallory')));
  await producer.send([{ topic: topics.events, key: 'x', value: 'this is not JSON' }]);

  await eventually('six audit entries', async () => (await audit.store.count()) >= 6);
  // Give a redelivery or a stray duplicate the chance to show up before counting exactly.
  await new Promise((r) => setTimeout(r, 500));
  t.equal(await audit.store.count(), 6, 'the message record (sent twice, recorded once) + 2 outcomes + 3 rejected records');

  t.test('the message record is the accepted entry; events are recorded as sent, with their signature', async (t) => {
    // Two topics are read side by side: the chain holds them in the order they were consumed,
    // which need not be the order they happened in (each entry keeps its own time).
    const order = ['accepted', 'delivery_failed', 'delivered'];
    const entries = (await audit.store.query({ messageId: message.id })).entries
      .map((e) => e.event as BusEvent & { record?: Record<string, unknown> })
      .sort((a, b) => order.indexOf(a.event) - order.indexOf(b.event));
    t.same(entries.map((e) => e.event), order);
    const { record: accepted, ...acceptedEvent } = entries[0];
    t.same(acceptedEvent, {
      id: message.id,
      event: 'accepted',
      at: JSON.parse(record.value).time,
      actor: 'gateway',
      messageId: message.id,
      type: message.type,
      from: message.from,
      to: message.to,
      correlationId: message.correlationId,
      payloadDigest: message.payloadDigest,
    });
    t.match(accepted, { topic: work, partition: Number, offset: /^\d+$/, sig: /^[\w-]+\.[\w-]+\.[\w-]+$/, proof: /^\d+\/\d+:/, leaf: /^[\w-]{43}$/ });
    t.notOk('value' in accepted!, 'the message record itself (with its payload) is not kept');
    t.notOk(JSON.stringify(entries).includes('CCCD'), 'no payload, no personal data in the log');
    for (const [i, ev] of outcomes.entries()) {
      const { record: evidence, ...event } = entries[i + 1];
      t.same(event, ev, `${ev.event} recorded as sent`);
      t.match(evidence, { topic: topics.events, sig: String, proof: String });
      t.same(JSON.parse(String(evidence!.value)), ev, 'with the signed record value it was made from');
    }
  });

  t.test('untrusted records become rejected entries, never dropped', async (t) => {
    const rejected = (await audit.store.query({ event: 'rejected' })).entries.map((e) => e.event);
    t.equal(rejected.length, 3);
    const reasons = rejected.map((e) => String(e.detail?.reason)).sort();
    t.match(reasons, [/^malformed event record: not JSON$/, /^unverified event record: signature verification failed/, /^unverified message record: record is not signed$/]);
    for (const ev of rejected) {
      t.equal(ev.actor, 'audit');
      t.equal(ev.messageId, undefined, 'nothing the untrusted record claims is taken over');
      t.type(ev.detail?.partition, 'number');
      t.match(ev.detail?.offset, /^\d+$/);
      t.ok(ev.detail?.topic === topics.events || ev.detail?.topic === work, 'names the topic it was read from');
      t.match(ev.detail?.valueDigest, /^sha-256=/);
    }
    t.notOk(JSON.stringify(rejected).includes('mallory'), 'the untrusted body is not copied into the log');
  });

  const tokenKey = await keys.signing('gateway', 'token');
  t.test('query API is for operators and observers only', async (t) => {
    const token = (roles: ('agency' | 'operator' | 'observer')[]) =>
      issueAccessToken(tokenKey, config.issuer, { clientId: `test-${roles.join('-')}`, member: '000.00.00.H49', roles }, 300);
    const get = (path: string, bearer?: string) => fetch(`${audit.url}${path}`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

    const anonymous = await get('/v1/audit/events');
    t.equal(anonymous.status, 401);
    t.match(anonymous.headers.get('content-type'), /application\/problem\+json/);
    t.match(await anonymous.json(), { code: 'UNAUTHENTICATED' });

    const agency = await get('/v1/audit/events', await token(['agency']));
    t.equal(agency.status, 403);
    t.match(await agency.json(), { code: 'ROLE_REQUIRED' });

    const operator = await token(['operator']);
    const all = await get('/v1/audit/events', operator);
    t.equal(all.status, 200);
    const page = (await all.json()) as { entries: { seq: number; event: BusEvent }[]; nextBefore: number | null };
    t.same(page.entries.map((e) => e.seq), [6, 5, 4, 3, 2, 1]);
    t.equal(page.nextBefore, null);

    const byMessage = await get(`/v1/audit/events?messageId=${message.id}&event=delivered`, await token(['observer']));
    t.equal(byMessage.status, 200);
    t.same(((await byMessage.json()) as typeof page).entries.map((e) => e.event.id), [outcomes[1].id]);
    const byUpperCaseId = await get(`/v1/audit/events?messageId=${message.id.toUpperCase()}&event=delivered`, await token(['observer']));
    t.same(((await byUpperCaseId.json()) as typeof page).entries.map((e) => e.event.id), [outcomes[1].id], 'a message id in upper case (UUIDs are case-insensitive)');

    const paged = (await (await get('/v1/audit/events?limit=4', operator)).json()) as typeof page;
    t.same(paged.entries.map((e) => e.seq), [6, 5, 4, 3]);
    const rest = (await (await get(`/v1/audit/events?limit=4&before=${paged.nextBefore}`, operator)).json()) as typeof page;
    t.same(rest.entries.map((e) => e.seq), [2, 1]);

    const misspelt = await get('/v1/audit/events?messageID=x', operator);
    t.equal(misspelt.status, 400, 'an unknown filter is an error, not ignored');
    t.match(await misspelt.json(), { code: 'VALIDATION_FAILED' });
    t.equal((await get('/v1/audit/events?limit=5000', operator)).status, 400);
    // Ajv coerces "1e400" and "Infinity" to Infinity and then skips minimum/maximum: such a
    // cursor once reached PostgreSQL (500). It is a validation error, like any other bad value.
    for (const huge of ['1e400', 'Infinity', '-1e400']) {
      const overflow = await get(`/v1/audit/events?before=${huge}`, operator);
      t.equal(overflow.status, 400, `before=${huge}`);
      t.match(await overflow.json(), { code: 'VALIDATION_FAILED', errors: [{ field: /before/ }] });
    }
    t.equal((await get('/v1/audit/events?limit=1e400', operator)).status, 400, 'limit too');
    t.equal((await get('/v1/audit/events?from=2026-13-45', operator)).status, 400);
    // Date.parse rolls 31 February over into March: the filter would answer another question.
    const rolledOver = await get('/v1/audit/events?from=2026-02-31', operator);
    t.equal(rolledOver.status, 400, 'an impossible day of the month');
    t.match(await rolledOver.json(), { errors: [{ field: 'querystring.from', message: 'is not a date on the calendar or a time of day' }] });
    const badTime = await (await get('/v1/audit/events?from=yesterday', operator)).json();
    t.match(badTime, { status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'querystring.from', message: /^must be a date \(2026-12-03\) or a time with its zone/ }] });
    // An offset's + left unencoded arrives as a space: the refusal says how to write it.
    const plusAsSpace = await (await get('/v1/audit/events?from=2026-01-01T10:00:00+07:00', operator)).json();
    t.match(plusAsSpace, { status: 400, errors: [{ field: 'querystring.from', message: /write the \+ as %2B/ }] }, 'an unencoded + is named');
    const zoneless = await (await get('/v1/audit/events?to=2026-01-01T10:00', operator)).json();
    t.notMatch(zoneless.detail, /\\d|\^/, 'the expected form in words, not a regular expression');
    t.equal((await get(`/v1/audit/events?from=${encodeURIComponent('2026-01-01T10:00+07:00')}&to=2026-12-31`, operator)).status, 200, 'a time with its zone and a bare date');
    // A window that ends before it starts is a mistake to say, as the console says it, not an empty page.
    const reversed = await get('/v1/audit/events?from=2026-12-31&to=2026-01-01', operator);
    t.equal(reversed.status, 400, 'to before from: 400');
    t.match(await reversed.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'querystring.to', message: 'must not be before from' }] });
    t.notMatch(JSON.stringify(badTime), /at .*\.(ts|js):\d+/, 'no stack traces');

    t.equal((await get('/v1/audit/integrity')).status, 401);
    t.equal((await get('/v1/audit/integrity', await token(['agency']))).status, 403);
    await eventually('a checkpoint of the whole chain', async () => (await audit.store.lastCheckpoint())?.seq === 6);
    const integrity = await get('/v1/audit/integrity', operator);
    t.equal(integrity.status, 200);
    t.match(await integrity.json(), {
      head: { seq: 6, hash: /^[0-9a-f]{64}$/ },
      lastCheckpoint: { seq: 6, jws: /^[\w-]+\.[\w-]+\.[\w-]+$/ },
      verification: { ok: true, entries: 6, signedThrough: 6, scope: 'full' },
    });
    // That full pass found the chain intact (its published copies read too) and sealed it: the
    // next check reads what came after the seal (nothing), unless asked for every entry.
    const sinceSeal = (await (await get('/v1/audit/integrity', operator)).json()) as { verification: { sealed?: { at: string } } };
    t.match(sinceSeal, { head: { seq: 6 }, verification: { ok: true, entries: 6, signedThrough: 6, scope: 'since-seal', sealed: { seq: 6, at: /^\d{4}-/ } } });
    t.same((sinceSeal as { verification: { published?: unknown } }).verification.published, { checked: 0, ignored: 0, sealed: 0 }, 'the published copies are read from where the sealed pass stopped');
    const full = (await (await get('/v1/audit/integrity?full=true', operator)).json()) as { verification: { scope: string; entries: number; published: { checked: number } } };
    t.match(full, { verification: { ok: true, entries: 6, scope: 'full' } }, '?full=true reads every entry');
    t.ok(full.verification.published.checked >= 1, 'and every published copy');
    t.match(await (await get('/v1/audit/integrity?full=yes', operator)).json(), { status: 400, code: 'VALIDATION_FAILED' });
  });

  t.test('health, readiness and metrics', async (t) => {
    t.equal((await fetch(`${audit.url}/healthz`)).status, 200);
    const ready = await fetch(`${audit.url}/readyz`);
    t.equal(ready.status, 200);
    t.match(await ready.json(), { status: 'ready', checks: { kafka: { ok: true }, store: { ok: true } } });
    // Its OpenAPI document names every operation and the errors any of them can give.
    const openapi = (await (await fetch(`${audit.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>> };
    const operations = Object.values(openapi.paths).flatMap((item) => Object.values(item));
    t.ok(operations.length > 0 && operations.every((op) => op.operationId && op.responses['431'] && op.responses['500']), 'operationIds and the common answers');
    t.equal(openapi.paths['/v1/audit/events'].get.operationId, 'getAuditEvents');
    t.ok(openapi.paths['/v1/audit/events'].get.responses['401'], 'a Bearer operation documents 401');
    const metrics = await (await fetch(`${audit.url}/metrics`)).text();
    t.match(metrics, /lgsp_audit_chain_length\{service="audit"\} 6/);
    t.match(metrics, /lgsp_audit_checkpoint_age_seconds\{service="audit"\} \d/);
    t.match(metrics, /lgsp_audit_rejected_records_total\{service="audit"\} 3/);
  });

  t.test('lgsp audit verify: clean store, then an edited one', async (t) => {
    // Records of different keys may land on different partitions, so look the seq up.
    const deliveredSeq = (await audit.store.query({ messageId: message.id, event: 'delivered' })).entries[0].seq;
    await audit.stop();
    stopped = true;
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };

    t.equal(await runAuditVerify(['--database', database.url, '--keys', keysFile], out), 0, lines.join('\n'));
    t.match(lines.join('\n'), /6 entries, \d+ checkpoints[\s\S]*OK/);

    // Kafka not answering is said as Kafka's failure, not the database's.
    lines.length = 0;
    t.equal(await runAuditVerify(['--database', database.url, '--keys', keysFile, '--brokers', '127.0.0.1:9'], out), 2, lines.join('\n'));
    t.match(lines.join('\n'), /^lgsp audit verify: cannot read the checkpoints published on Kafka \(127\.0\.0\.1:9, topic \S+\): /, 'names Kafka');
    t.notMatch(lines.join('\n'), /postgres:\/\//, 'and does not blame PostgreSQL');
    lines.length = 0;

    // A developer on `npm start`'s stack sets no KAFKA_* at all: verify finds the stack's broker,
    // CA and credentials in stack.json and still checks the published checkpoints.
    const stackDir = t.testdir();
    const saved = Object.fromEntries(['KAFKA_BROKERS', 'KAFKA_SSL_CA_FILE', 'KAFKA_CREDENTIALS_DIR', 'LGSP_DATA_DIR', 'LGSP_TOPIC_PREFIX'].map((n) => [n, process.env[n]]));
    writeFileSync(join(stackDir, 'stack.json'), JSON.stringify({ kafka: { bootstrapServers: saved.KAFKA_BROKERS, sslCaFile: saved.KAFKA_SSL_CA_FILE, credentialsDir: saved.KAFKA_CREDENTIALS_DIR } }));
    for (const n of ['KAFKA_BROKERS', 'KAFKA_SSL_CA_FILE', 'KAFKA_CREDENTIALS_DIR']) delete process.env[n];
    process.env.LGSP_DATA_DIR = stackDir;
    process.env.LGSP_TOPIC_PREFIX = config.topicPrefix;
    lines.length = 0;
    try {
      t.equal(await runAuditVerify(['--database', database.url, '--keys', keysFile], out), 0, lines.join('\n'));
      t.match(lines.join('\n'), /checkpoints on Kafka: [1-9]\d* checked/, 'the stack broker\'s published checkpoints were read');
      // The same broker named with --brokers (its address copied from stack.json): still read with
      // the stack's CA and credentials, not refused for want of KAFKA_SASL_*.
      lines.length = 0;
      t.equal(await runAuditVerify(['--database', database.url, '--keys', keysFile, '--brokers', saved.KAFKA_BROKERS!], out), 0, lines.join('\n'));
    } finally {
      for (const [n, v] of Object.entries(saved)) if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
    t.match(lines.join('\n'), /checkpoints on Kafka: [1-9]\d* checked/, 'the stack broker\'s published checkpoints were read');
    lines.length = 0;

    // Public keys only: the keyset alone, copied where no private key lives, is all it needs;
    // handed a private key file instead, it refuses to use it.
    const auditorDir = t.testdir();
    copyFileSync(keys.jwksFile, join(auditorDir, 'jwks.json'));
    lines.length = 0;
    t.equal(await runAuditVerify(['--database', database.url, '--keys', join(auditorDir, 'jwks.json')], out), 0, lines.join('\n'));
    lines.length = 0;
    t.equal(await runAuditVerify(['--database', database.url, '--keys', privateKeyFile(keys.keysDir, 'audit', 'checkpoint')], out), 2, 'a private key file is not a keyset');
    t.match(lines.join('\n'), /not a usable public keyset: key 0 \(\S+\) is an entry of a service's private key file/, 'and says what it was given');
    lines.length = 0;

    // An owner of the tables can switch the append-only triggers off; the chain still tells.
    const attacker = new pg.Client(databaseClientConfig(database.url));
    await attacker.connect();
    await attacker.query('SET session_replication_role = replica');
    await attacker.query(`UPDATE audit_entries SET body = replace(body, '"delivered"', '"dead_lettered"') WHERE seq = $1`, [deliveredSeq]);
    await attacker.end();
    lines.length = 0;
    t.equal(await runAuditVerify([`--database=${database.url}`, `--keys=${keysFile}`], out), 1);
    t.match(lines.join('\n'), new RegExp(`TAMPERED: first bad entry seq ${deliveredSeq}: hash mismatch`));

    // A thorough attacker also recomputes every hash from there on and removes the stored
    // checkpoints (and verify is not given the brokers): the entry no longer matches the signed
    // record it keeps, which needs a platform private key to forge.
    const rewriter = new pg.Client(databaseClientConfig(database.url));
    await rewriter.connect();
    await rewriter.query('SET session_replication_role = replica');
    const rows = (await rewriter.query<{ seq: string; event_id: string; at: string; recorded_at: string; body: string; prev_hash: string }>(
      'SELECT seq, event_id, at, recorded_at, body, prev_hash FROM audit_entries ORDER BY seq',
    )).rows;
    let prev = GENESIS_HASH;
    for (const row of rows) {
      const seq = Number(row.seq);
      const body = seq === deliveredSeq ? canonicalJson({ ...JSON.parse(row.body), event: 'delivered', detail: { ...JSON.parse(row.body).detail, httpStatus: 500 } }) : row.body;
      const hash = entryHash(prev, { seq, eventId: row.event_id, at: row.at, recordedAt: row.recorded_at, body });
      await rewriter.query('UPDATE audit_entries SET body = $2, prev_hash = $3, hash = $4 WHERE seq = $1', [seq, body, prev, hash]);
      prev = hash;
    }
    await rewriter.query('DELETE FROM audit_checkpoints');
    await rewriter.end();
    lines.length = 0;
    t.equal(await runAuditVerify(['--database', database.url, '--keys', keysFile, '--brokers', ''], out), 1, lines.join('\n'));
    t.match(lines.join('\n'), new RegExp(`TAMPERED: first bad entry seq ${deliveredSeq}: entry differs from the signed record it was made from`));

    // The keyset copied where no private key lives (given as --jwks, the same as --keys) still
    // catches the rewrite: the record keys it holds re-check each entry's signed record.
    const auditorCopy = join(t.testdir(), 'jwks.json');
    copyFileSync(keys.jwksFile, auditorCopy);
    lines.length = 0;
    t.equal(await runAuditVerify(['--database', database.url, '--jwks', auditorCopy, '--brokers', ''], out), 1);
    t.match(lines.join('\n'), /entry differs from the signed record/);

    const empty = await createTestDatabase('audit-empty');
    t.teardown(() => empty.drop());
    lines.length = 0;
    t.equal(await runAuditVerify(['--database', empty.url, '--keys', keysFile], out), 2, 'a database without an audit log');
    t.match(lines.join('\n'), /holds no audit log/);
    t.equal(await runAuditVerify(['--database', database.url, '--keys', join(dataDir, 'missing.json')], out), 2, 'missing keys');
    t.equal(await runAuditVerify(['--database', 'mysql://x'], out), 2, 'not a PostgreSQL URL');
    t.equal(await runAuditVerify(['--frobnicate'], out), 2, 'usage error');
  });
});
