// The lean data path on the real stack (gateway, runner, audit; real Kafka and PostgreSQL): a
// delivered message costs two records on the bus — the message itself (the acceptance) and one
// outcome event — with no copies, and the audit, reading those same topics, still chains every
// accepted message and every outcome, each entry with the record's signature.
import t from 'tap';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { topicsFor } from '../services/platform/topics.js';
import { startConsole } from '../services/console/console-service.js';

const N = 20;

t.test(`${N} delivered messages: ≤ 2 records each on the bus, and the audit chain covers every message and outcome`, async (t) => {
  const bus = await startTestBus(t, { name: 'lean', gateways: 2 });
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());
  const consoleSvc = await startConsole(bus.config, { upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner!.url } });
  t.teardown(() => consoleSvc.stop());
  const topics = topicsFor(bus.config.topicPrefix);
  const sender = bus.client('so-tttt-qlvb');

  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const r = await sender.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: `Thông báo ${i}`, body: 'Kính gửi Sở Tư pháp.' } });
    t.equal(r.status, 202);
    ids.push(r.body.id);
    // Read-your-write on any gateway: the sender sees its message at once through the other
    // gateway, whatever the bus has consumed yet (the accepting gateway wrote the row).
    if (i === 0) {
      const seen = await bus.client('so-tttt-qlvb', 1).status(r.body.id);
      t.equal(seen.status, 200, 'the other gateway knows the message right after the 202');
      t.match(seen.body, { id: r.body.id, status: /^(accepted|delivered)$/, events: [{ event: 'accepted' }] });
    }
  }
  const views = await eventually(async () => {
    const all = await Promise.all(ids.map(async (id) => (await sender.status(id)).body));
    return all.every((v) => v.status === 'delivered') ? all : null;
  }, 90_000);
  for (const v of views) t.same(v.events.map((e: { event: string }) => e.event), ['accepted', 'delivered']);

  // Every record of this bus (its topics share the prefix), except the audit's own signed
  // checkpoints, which follow time, not traffic.
  const kafka = new Kafka({ clientId: 'lean-count', brokers: bus.config.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const busTopics = (await admin.listTopics()).filter((name) => name.startsWith(bus.config.topicPrefix) && name !== topics.auditCheckpoints);
  const perTopic: Record<string, number> = {};
  for (const topic of busTopics) {
    const offsets = await admin.fetchTopicOffsets(topic);
    const n = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    if (n > 0) perTopic[topic.slice(bus.config.topicPrefix.length)] = n;
  }
  const total = Object.values(perTopic).reduce((a, b) => a + b, 0);
  t.comment(`records on the bus for ${N} delivered messages: ${JSON.stringify(perTopic)}`);
  t.same(perTopic, { 'lgsp.msg.notice': N, 'lgsp.events': N }, 'the messages and one outcome each, nothing else');
  t.ok(total <= 2 * N, `${total} records ≤ 2 per message`);

  // Record reads: each consumer group of this bus reads every record of each topic it commits
  // offsets on: the runner's connector group (messages), the ledger (events) and the audit
  // (messages and events). The gateway consumes nothing, and the console reads only dead letters
  // (it follows the ledger's index in PostgreSQL).
  const { groups } = await admin.listGroups();
  const reads: Record<string, string[]> = {};
  let readCount = 0;
  await eventually(async () => {
    for (const key of Object.keys(reads)) delete reads[key];
    readCount = 0;
    for (const { groupId } of groups.filter((g) => g.groupId.startsWith(bus.config.topicPrefix))) {
      const committed = await admin.fetchOffsets({ groupId, topics: busTopics });
      for (const { topic, partitions } of committed) {
        const short = topic.slice(bus.config.topicPrefix.length);
        if (!perTopic[short] || !partitions.some((p) => Number(p.offset) > 0)) continue;
        (reads[groupId.slice(bus.config.topicPrefix.length)] ??= []).push(short);
        readCount += perTopic[short];
      }
    }
    return readCount >= 4 * N;
  }, 30_000).catch(() => undefined);
  t.comment(`record reads: ${JSON.stringify(reads)} = ${readCount} for ${N} messages`);
  t.notOk(Object.keys(reads).some((g) => g.includes('gateway') || g.includes('console')), 'no gateway or console group reads these topics');
  t.ok(readCount <= 4 * N, `${readCount} record reads ≤ 4 per message`);

  // The audit read the work topic and the event topic itself: each message is chained as
  // accepted (from its record) and delivered (from the outcome), with the record's signature.
  await eventually(async () => (await audit.store.query({ event: 'delivered', limit: 1000 })).entries.length >= N, 30_000);
  await eventually(async () => (await audit.store.query({ event: 'accepted', limit: 1000 })).entries.length >= N, 30_000);
  for (const id of ids) {
    const entries = (await audit.store.query({ messageId: id })).entries.map((e) => e.event as { event: string; record?: { topic: string; sig: string; leaf?: string; value?: string } });
    t.same(entries.map((e) => e.event).sort(), ['accepted', 'delivered'], `message ${id}: accepted and its outcome`);
    const accepted = entries.find((e) => e.event === 'accepted')!;
    const delivered = entries.find((e) => e.event === 'delivered')!;
    t.match(accepted.record, { topic: topics.message('notice'), sig: String, leaf: String });
    t.match(delivered.record, { topic: topics.events, sig: String, value: String });
  }
  t.notOk(JSON.stringify((await audit.store.query({ limit: 1000 })).entries).includes('Kính gửi'), 'no payload in the audit log');
  t.same((await audit.store.query({ event: 'rejected' })).entries, [], 'nothing rejected');

  // The console's index, written by the ledger: each message with its acceptance and outcome.
  const indexed = await eventually(async () => {
    const rows = await Promise.all(ids.map((id) => consoleSvc.store.messages.get(id)));
    return rows.every((r) => r?.status === 'delivered' && r.acceptedAt && r.connector === 'relay') ? rows : null;
  }, 30_000);
  t.equal(indexed.length, N, 'every message in the console index, delivered, with its acceptance time and connector');
  t.same((await consoleSvc.store.messages.timeline(ids[0])).map((e) => e.event), ['accepted', 'delivered'], 'console timeline');
});
