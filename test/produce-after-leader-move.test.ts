// A partition's leader moving while a producer still believes the old one leads it: every record
// the BatchingProducer acknowledges is on the topic. kafkajs 2.2.4 alone resolves such a
// sendBatch without writing the records of that partition when its new leader is a broker that
// had already answered for other partitions of the same batch (partition-acknowledgements.ts).
// A control on the same cluster shows the loss; the batching producer sends those records again.
// The move is made deterministic with a partition reassignment: the partition's replicas become
// the two other nodes, so the old leader answers NOT_LEADER / UNKNOWN_TOPIC_OR_PARTITION, kafkajs
// refreshes its metadata, and the new leader is a broker it already has an answer from.
import t, { type Test } from 'tap';
import type { Admin, Kafka } from 'kafkajs';
import { BatchingProducer, createKafka, ensureTopics } from '../services/platform/kafka-transport.js';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { startLocalKafka } from '../services/local-kafka/local-kafka.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const PARTITIONS = 6;
const PER_SEND = 120;

/**
 * The topic's offsets, asked again while a partition has no leader: just after the move, on a
 * loaded machine, the election can outlast the admin client's own retries (LEADER_NOT_AVAILABLE,
 * seen once in a full test run).
 */
async function offsetsOnceLed(admin: Admin, topic: string): Promise<Array<{ partition: number; high: string }>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      const failure = err as { type?: string; originalError?: { type?: string } };
      const leaderless = failure.type === 'LEADER_NOT_AVAILABLE' || failure.originalError?.type === 'LEADER_NOT_AVAILABLE';
      if (!leaderless || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The keys of every record on the topic (read to its high watermarks). */
async function keysOn(kafka: Kafka, admin: Admin, topic: string): Promise<Set<string>> {
  const total = (await offsetsOnceLed(admin, topic)).reduce((sum, p) => sum + Number(p.high), 0);
  const consumer = kafka.consumer({ groupId: `leader-move-reader-${topic}`, maxWaitTimeInMs: 100 });
  const keys = new Set<string>();
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        read++;
        keys.add(message.key?.toString() ?? '');
      },
    });
    const deadline = Date.now() + 30_000;
    while (read < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await consumer.disconnect();
  }
  return keys;
}

/** Moves the leadership of partition 0 away from its leader; resolves once the new leader serves it. */
async function moveLeaderOfPartitionZero(admin: Admin, topic: string, nodes: number[]): Promise<void> {
  const before = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.find((p) => p.partitionId === 0)!;
  const replicas = nodes.filter((n) => n !== before.leader);
  await admin.alterPartitionReassignments({ topics: [{ topic, partitionAssignment: [{ partition: 0, replicas }] }] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ongoing = await admin.listPartitionReassignments({ topics: [{ topic, partitions: [0] }] });
    const now = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.find((p) => p.partitionId === 0)!;
    if (ongoing.topics.length === 0 && now.leader !== before.leader && replicas.includes(now.leader)) return;
    if (Date.now() > deadline) throw new Error(`partition 0 of ${topic} still led by ${now.leader}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Sends, moves a leader, sends again; returns how many keys of the second send are not on the
 * topic. `label` keeps each round's keys apart when the same topic is moved more than once.
 */
async function sendAndMove(
  t: Test,
  kafka: Kafka,
  admin: Admin,
  topic: string,
  nodes: number[],
  send: (round: string) => Promise<unknown>,
  label = '',
): Promise<number> {
  await send(`warm${label}`); // the producer learns every partition's leader while they are where they were
  await moveLeaderOfPartitionZero(admin, topic, nodes);
  await send(`moved${label}`); // still aimed at the old leader for partition 0
  const keys = await keysOn(kafka, admin, topic);
  const missing = Array.from({ length: PER_SEND }, (_, i) => `moved${label}-${i}`).filter((k) => !keys.has(k)).length;
  t.comment(`${topic}${label}: ${missing} of the ${PER_SEND} records acknowledged after the move are not on the topic`);
  return missing;
}

t.test('records whose partition leader moved under the producer are all written', async (t) => {
  const cluster = await startLocalKafka({ nodes: 3, heapMb: 384 });
  t.teardown(() => cluster.stop());
  const kafka: Kafka = createKafka('leader-move-test', cluster.clientSettings(), 'admin');
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const nodes = (await admin.describeCluster()).brokers.map((b) => b.nodeId);
  // The project's topic creation: it waits out the UNKNOWN_TOPIC_OR_PARTITION a fresh cluster
  // answers while its metadata settles (a bare createTopics failed on it once in CI).
  await ensureTopics(admin, ['leader-move-raw', 'leader-move-batching'], PARTITIONS, 3);
  const records = (topic: string, round: string) =>
    Array.from({ length: PER_SEND }, (_, i) => ({ topic, key: `${round}-${i}`, value: `${round}-${i}` }));

  const raw = kafka.producer();
  await raw.connect();
  t.teardown(() => raw.disconnect());
  const rawMissing = await sendAndMove(t, kafka, admin, 'leader-move-raw', nodes, (round) =>
    raw.sendBatch({ acks: -1, topicMessages: [{ topic: 'leader-move-raw', messages: records('leader-move-raw', round) }] }),
  );
  // The control shows the loss when kafkajs's retry lands on a broker that already answered; that
  // depends on timing it does not control (a CI run saw none, 2026-12-02), so it is reported, not
  // asserted. What the batching producer must do is asserted below: it lost nothing, and it did
  // meet the moved partition (it sent records again), so the assertion is not vacuous.
  t.comment(rawMissing > 0
    ? `control: kafkajs alone resolved the send with ${rawMissing} records of the moved partition missing`
    : 'control: kafkajs alone lost nothing this time (the loss depends on timing)');

  const keystore = await PlatformKeystore.ephemeral();
  const batching = new BatchingProducer(kafka, () => keystore.signingKey, { lingerMs: 0, maxBatch: 1000, ttlSeconds: 60 });
  await batching.connect();
  t.teardown(() => batching.disconnect());
  // Whether the producer still aims at the old leader when it sends again is timing too: on a
  // loaded machine its metadata may be refreshed during the move, and the send then goes straight
  // to the new leader (resent 0, nothing lost: seen in a CI run under load). The leader is moved
  // again, up to three times, until the producer meets a moved partition.
  for (let round = 1; round <= 3; round++) {
    const resentBefore = batching.stats.resent;
    const batchingMissing = await sendAndMove(t, kafka, admin, 'leader-move-batching', nodes, (r) => batching.send(records('leader-move-batching', r)), `-${round}`);
    t.equal(batchingMissing, 0, `move ${round}: every record the batching producer acknowledged is on the topic`);
    const resent = batching.stats.resent - resentBefore;
    if (resent === 0) {
      t.comment(`move ${round}: the producer knew the new leader before it sent (nothing to send again)`);
      continue;
    }
    t.ok(resent < PER_SEND, `move ${round}: it sent again only the records of the moved partition (${resent} of ${PER_SEND})`);
    break;
  }
  t.ok(batching.stats.resent > 0, `it met a moved partition (${batching.stats.resent} records sent again): the checks above are not vacuous`);
});
