// Proof of payload encryption at rest (issue 14), on a secured broker of the test's own and the
// real PostgreSQL server: a document whose subject holds one marker and whose attachment holds
// another is delivered pushed (edXML), deposited and pulled (JSON) and, for a receiver refusing
// it with 422, dead-lettered and listed by the console. Then neither marker is anywhere on the
// bus's topics (every record, read with admin credentials), in the broker's log files, or in a
// pg_dump of the bus's database — while the message id, metadata kept in clear, is found in each
// of those places (so a wrong directory, compression or an empty dump cannot pass the test),
// and the receivers got subject and attachment intact.
import t from 'tap';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalKafka } from '../services/local-kafka/local-kafka.js';
import { createKafka } from '../services/platform/kafka-transport.js';
import type { KafkaSettings } from '../services/platform/config.js';
import { startConsole } from '../services/console/console-service.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { createEnvelope } from '../services/platform/envelope.js';
import { PayloadSealer } from '../services/platform/payload-jwe.js';
import { InboxStore } from '../services/document-exchange/inbox-store.js';
import { signBatch } from '../services/platform/record-signing.js';
import { eventually } from './helpers/test-bus.js';

const PG_DUMP = ['/usr/lib/postgresql/15/bin/pg_dump', '/usr/bin/pg_dump'].find((p) => existsSync(p));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every record of every topic with `prefix`, read to each partition's end as `admin`. */
async function readAllTopics(settings: KafkaSettings, prefix: string): Promise<Map<string, Buffer[]>> {
  const kafka = createKafka('proof-reader', settings, 'admin');
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
  const ends = new Map<string, number>();
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${p.partition}`, Number(p.high));
  await admin.disconnect();
  const out = new Map<string, Buffer[]>(topics.map((topic) => [topic, []]));
  const consumer = kafka.consumer({ groupId: `proof-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const seen = new Map<string, number>();
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      // The whole record: value, key and every header.
      const headers = Object.entries(message.headers ?? {}).flatMap(([k, v]) => [Buffer.from(k), ...[v].flat().filter((x) => x !== undefined).map((x) => Buffer.from(x as Buffer | string))]);
      out.get(topic)!.push(Buffer.concat([message.key ?? Buffer.alloc(0), message.value ?? Buffer.alloc(0), ...headers]));
      seen.set(`${topic}/${partition}`, Number(message.offset) + 1);
    },
  });
  await eventually(() => [...ends].every(([tp, end]) => end === 0 || (seen.get(tp) ?? 0) >= end), 30_000, 200);
  await consumer.disconnect();
  return out;
}

/** The bytes of every file under the log directories of the topics with `prefix`. */
function brokerLogFiles(dataDir: string, prefix: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(path, readFileSync(path));
    }
  };
  for (const node of readdirSync(dataDir).filter((n) => n.startsWith('node-'))) {
    const logDirs = join(dataDir, node, 'data');
    for (const dir of readdirSync(logDirs).filter((n) => n.startsWith(prefix))) walk(join(logDirs, dir));
  }
  return files;
}

t.test('payloads and attachments are ciphertext on every topic, in the broker files and in the database', async (t) => {
  if (!PG_DUMP) return t.fail('pg_dump is not installed (PostgreSQL 15 client tools)');
  const kafka = await startLocalKafka();
  t.teardown(() => kafka.stop());
  const bus = await startEdocBus(t, { name: 'enc-proof', kafka: kafka.clientSettings(), config: { retryMaxAttempts: 2 } });
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, runner: bus.runner.url }, lagIntervalMs: 300 });
  t.teardown(() => consoleSvc.stop());
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());

  const payloadMarker = `PAYLOAD-MARKER-${randomUUID()}`;
  const attachmentMarker = `ATTACHMENT-MARKER-${randomUUID()}`;
  const attachment = Buffer.from(`${attachmentMarker} — biên bản nghiệm thu (dữ liệu mẫu)`);
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const upload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: attachment });
  t.equal(upload.status, 201, 'attachment uploaded');
  const uploaded = (await upload.json()) as { sha256: string; size: number };

  // so-tttt-qlvb (000.00.12.H49, push) refuses: its copy is dead-lettered at once.
  bus.qlvb.refusing.add('so-tttt-qlvb');
  const documentId = `000.00.00.H49,2026/05/01,${Math.floor(Math.random() * 9000) + 1000}/QĐ-UBND`;
  const subject = `Quyết định ${payloadMarker} về việc phê duyệt hồ sơ`;
  const to = ['000.00.15.H49', 'H49.242.10', '000.00.12.H49'];
  const sent = await office.send({
    type: 'edoc.send',
    to: to.map((member) => ({ member })),
    payload: {
      header: { from: { organId: '000.00.00.H49' }, to: to.map((organId) => ({ organId })), documentId, subject },
      attachments: [{ contentId: 'cid:bien-ban.txt', name: 'Biên bản.txt', contentType: 'text/plain', sha256: uploaded.sha256, size: uploaded.size }],
    },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const idOf = (member: string) => (sent.body.recipients as Array<{ member: string; id: string }>).find((r) => r.member === member)!.id;

  // The receivers get subject and attachment intact: pushed as edXML, pulled from the inbox as JSON.
  const docs = (clientId: string) => bus.qlvb.received.get(clientId) ?? [];
  const pushed = await eventually(() => docs('so-tp-qlvb').find((d) => d.documentId === documentId), 90_000);
  const pulled = await eventually(() => docs('xa-hoaphuoc-qlvb').find((d) => d.documentId === documentId), 90_000);
  for (const d of [pushed, pulled]) {
    t.equal(d.subject, subject, `${d.via}: the subject arrived intact`);
    t.match(d.attachments, [{ sha256: sha256(attachment), size: attachment.length, verified: true }], `${d.via}: the attachment bytes arrived intact`);
  }
  t.equal(pulled.via, 'pull');
  t.ok(pushed.xml?.includes(attachment.toString('base64')), 'the pushed edXML package carries the attachment bytes');
  const refusedId = idOf('000.00.12.H49');
  await eventually(async () => ((await office.status(refusedId)).body.status === 'dead_lettered' ? true : null), 60_000);
  const deadLetters = await eventually(async () => {
    const rows = (await consoleSvc.store.deadLetters.search({ messageId: refusedId })).items;
    return rows.length > 0 ? rows : null;
  }, 30_000);
  t.match(deadLetters[0], { messageId: refusedId, type: 'edoc.send', toMember: '000.00.12.H49', reason: /422/ }, 'the console lists the dead letter with its metadata');
  // Both delivered copies acknowledged (the pull one by the system's ack), so every record exists.
  for (const member of ['000.00.15.H49', 'H49.242.10']) {
    await eventually(async () => ((await office.status(idOf(member))).body.status === 'delivered' ? true : null), 60_000);
  }

  const markers = [
    ['payload marker', Buffer.from(payloadMarker)],
    ['attachment marker', Buffer.from(attachmentMarker)],
    ['attachment bytes in base64', Buffer.from(attachment.toString('base64').slice(0, 40))],
    ['attachment marker in hex (bytea text)', Buffer.from(Buffer.from(attachmentMarker).toString('hex'))],
    ['payload marker in hex', Buffer.from(Buffer.from(payloadMarker).toString('hex'))],
  ] as const;
  const messageId = Buffer.from(refusedId);

  await t.test('every record of every topic of the bus, read as admin', async (t) => {
    const topics = await readAllTopics(kafka.clientSettings(), bus.config.topicPrefix);
    const all = [...topics.values()].flat();
    t.ok(all.length >= 10, `${all.length} records on ${topics.size} topics`);
    t.ok(topics.get(`${bus.config.topicPrefix}lgsp.dlq.document-management`)?.length, 'the dead-letter topic holds the refused copy');
    for (const [name, bytes] of markers) t.notOk(all.some((r) => r.includes(bytes)), `no ${name} in any record`);
    t.ok(all.some((r) => r.includes(messageId)), 'the message id (clear metadata) is found');
    // The three copies of the fan-out were sealed in one key session: one ECDH, one wrapped key.
    const messages = topics.get(`${bus.config.topicPrefix}lgsp.msg.document-exchange`) ?? [];
    const sealed = to.map((member) => {
      const record = messages.find((r) => r.includes(Buffer.from(idOf(member))));
      return record ? /"data":"([A-Za-z0-9_.-]+)"/.exec(record.toString('latin1'))?.[1] ?? '' : '';
    });
    t.ok(sealed.every((jwe) => jwe.split('.').length === 5), 'each copy\'s payload is a compact JWE');
    t.equal(new Set(sealed.map((jwe) => jwe.split('.')[1])).size, 1, 'the copies share one wrapped content-encryption key');
    t.equal(new Set(sealed.map((jwe) => jwe.split('.')[2])).size, sealed.length, 'each record has its own IV');
  });

  await t.test('the broker\'s log files of those topics', async (t) => {
    const files = brokerLogFiles(kafka.dataDir, bus.config.topicPrefix);
    const logs = [...files].filter(([path]) => path.endsWith('.log'));
    t.ok(logs.length >= 5, `${files.size} files (${logs.length} segment logs) under the topics' log directories`);
    for (const [name, bytes] of markers) t.notOk([...files.values()].some((f) => f.includes(bytes)), `no ${name} in the broker files`);
    t.ok(logs.some(([, f]) => f.includes(messageId)), 'the message id is found in a segment log (not compressed, right directory)');
  });

  await t.test('a pg_dump of the bus database (every table)', async (t) => {
    const { stdout } = await promisify(execFile)(PG_DUMP!, ['--data-only', '--no-owner', bus.database.url], { maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
    const dump = stdout as unknown as Buffer;
    for (const table of ['attachment_blobs', 'document_inbox', 'document_documents', 'document_history', 'console_dead_letters', 'console_messages', 'console_message_events', 'audit_entries']) t.ok(dump.includes(Buffer.from(`COPY public.${table} `)), `the dump holds ${table}`);
    for (const [name, bytes] of markers) t.notOk(dump.includes(bytes), `no ${name} in the database`);
    t.ok(dump.includes(messageId), 'the message id is found in the dump');
  });

  await t.test('an acknowledged inbox item keeps its row, not its payload', async (t) => {
    const rows = async (where: string, params: unknown[] = []) =>
      (await bus.db.query<{ id: string; acked: boolean; hasData: boolean }>(`SELECT id, acked_at IS NOT NULL AS acked, envelope::jsonb ? 'data' AS "hasData" FROM document_inbox ${where}`, params)).rows;
    const acked = await rows('WHERE acked_at IS NOT NULL');
    t.ok(acked.length >= 1, 'the pulled copy was acknowledged');
    t.same(acked.filter((r) => r.hasData), [], 'no acknowledged row holds a payload, sealed or not');
    // An acknowledgement seen before its deposit (the ledger reading lgsp.events first, or a rebuild).
    const early = createEnvelope({ type: 'edoc.status', from: { member: '000.00.00.H49', system: 'vp-ubnd-qlvb' }, to: { member: 'H49.242.10', service: 'document-exchange' }, data: { statusCode: '03' } });
    const store = new InboxStore(bus.db);
    await store.acknowledge([{ id: early.id, at: new Date().toISOString() }]);
    await store.deposit([{ envelope: early, system: 'xa-hoaphuoc-qlvb', depositedAt: new Date().toISOString() }]);
    t.same(await rows('WHERE id = $1', [early.id]), [{ id: early.id, acked: true, hasData: false }], 'deposited after its acknowledgement: kept without it too');
    const late = createEnvelope({ type: 'edoc.status', from: { member: '000.00.00.H49', system: 'vp-ubnd-qlvb' }, to: { member: 'H49.242.10', service: 'document-exchange' }, data: { statusCode: '06' } });
    await store.deposit([{ envelope: late, system: 'xa-hoaphuoc-qlvb', depositedAt: new Date().toISOString() }]);
    t.same(await rows('WHERE id = $1', [late.id]), [{ id: late.id, acked: false, hasData: true }], 'an item waiting keeps its payload');
    t.equal(await store.acknowledge([{ id: late.id, at: new Date().toISOString() }]), 1);
    t.same(await rows('WHERE id = $1', [late.id]), [{ id: late.id, acked: true, hasData: false }], 'until it is acknowledged');
    t.equal(await store.acknowledge([{ id: late.id, at: new Date().toISOString() }]), 0, 'a second acknowledgement closes nothing');
    t.match(await store.get(late.id), { id: late.id, type: 'edoc.status', ackedAt: String }, 'the row still answers a repeated acknowledgement');
  });

  await t.test('an inbox item sealed for a lost key: listed with its metadata, refused with PAYLOAD_UNREADABLE, the rest served', async (t) => {
    bus.qlvb.down.add('xa-hoaphuoc-qlvb'); // the simulated system stops polling: the test reads its inbox
    const lost = new PayloadSealer(() => ({ kid: 'a-key-nobody-has', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }));
    const envelope = createEnvelope({ type: 'edoc.status', from: { member: '000.00.00.H49', system: 'vp-ubnd-qlvb' }, to: { member: 'H49.242.10', service: 'document-exchange' }, data: { statusCode: '03' } });
    await new InboxStore(bus.db).deposit([{ envelope: { ...envelope, data: lost.seal(JSON.stringify(envelope.data)) }, system: 'xa-hoaphuoc-qlvb', depositedAt: new Date().toISOString() }]);
    const commune = bus.client('xa-hoaphuoc-qlvb');
    const list = await commune.request('GET', '/v1/inbox');
    t.equal(list.status, 200, 'the inbox is still served');
    t.match(list.body.items.find((i: { id: string }) => i.id === envelope.id), { id: envelope.id, type: 'edoc.status', unreadable: true }, 'the item is listed with its metadata');
    const item = await commune.request('GET', `/v1/inbox/${envelope.id}`);
    t.equal(item.status, 502);
    t.match(item.body, { code: 'PAYLOAD_UNREADABLE', status: 502 });
  });

  await t.test('a genuine record sealed for a lost runner key is dead-lettered with the reason, never delivered', async (t) => {
    const lost = new PayloadSealer(() => ({ kid: 'a-lost-runner-key', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey }));
    const envelope = createEnvelope({ type: 'edoc.send', from: { member: '000.00.00.H49', system: 'vp-ubnd-qlvb' }, to: { member: '000.00.15.H49', service: 'document-exchange' }, data: { header: { documentId: 'x' } } });
    const value = JSON.stringify({ ...envelope, data: lost.seal(JSON.stringify(envelope.data)) });
    const [signature] = signBatch([value], await bus.keys.signing('gateway', 'record'), 60);
    const producer = createKafka('proof-forger', kafka.clientSettings(), 'admin').producer();
    await producer.connect();
    await producer.send({ topic: `${bus.config.topicPrefix}lgsp.msg.document-exchange`, acks: -1, messages: [{ key: `000.00.15.H49:${envelope.id}`, value, headers: { 'lgsp-id': envelope.id, 'lgsp-type': envelope.type, ...signature } }] });
    await producer.disconnect();
    const dead = await eventually(async () => {
      const records = (await readAllTopics(kafka.clientSettings(), `${bus.config.topicPrefix}lgsp.dlq.`)).get(`${bus.config.topicPrefix}lgsp.dlq.document-management`) ?? [];
      return records.find((r) => r.includes(Buffer.from(envelope.id))) ?? null;
    }, 30_000, 500);
    t.match(dead.toString('latin1'), /payload cannot be decrypted: no payload-encryption key with kid a-lost-runner-key/, 'the dead letter says why');
    t.notOk(docs('so-tp-qlvb').some((d) => d.messageId === envelope.id), 'nothing reached the receiver');
  });
});
