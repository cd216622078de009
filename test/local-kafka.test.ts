// Tests the local Kafka runner itself, so it always starts its own broker(s) and ignores
// KAFKA_BROKERS (which with-kafka sets for the other tests).

import net from 'node:net';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka, ensureTopics } from '../services/platform/kafka-transport.js';
import { startLocalKafka, type LocalKafka } from '../services/local-kafka/local-kafka.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
// Starts a single broker, then a 3-node cluster and restarts one node: 93–114 s in CI on a quiet
// machine, past the suite's 180 s per file on a machine running several times slower (seen once).
// Its own budget, so a slow machine makes it slow, not red; a hang still ends it.
t.setTimeout(420_000);

/** As admin (the setup principal, a super user): these tests exercise the broker, not the ACLs. */
function client(kafka: LocalKafka): Kafka {
  return createKafka('local-kafka-test', kafka.clientSettings(), 'admin');
}

function portOpen(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// The project's topic creation: it also waits until the cluster's metadata shows the topic (a
// bare createTopics returned before one node of a 3-node cluster knew it, seen in CI).
function createTopic(admin: Admin, topic: string, replicationFactor: number): Promise<void> {
  return ensureTopics(admin, [topic], 3, replicationFactor);
}

const messages = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${prefix}-${i}` }));

t.test('single broker: create, produce acks=-1, consume with a group, stop', async (t) => {
  const kafka = await startLocalKafka({ nodes: 1 });
  t.teardown(() => kafka.stop());
  t.equal(kafka.brokers.length, 1);
  t.match(kafka.bootstrap, /^127\.0\.0\.1:\d+$/);
  t.equal(kafka.pids.length, 1);

  const k = client(kafka);
  const admin = k.admin();
  await admin.connect();
  await createTopic(admin, 'lk-single', 1);

  const producer = k.producer();
  await producer.connect();
  const sent = messages('single', 200);
  await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'lk-single', messages: sent }] });
  await producer.disconnect();

  const consumer = k.consumer({ groupId: 'lk-single-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'lk-single', fromBeginning: true });
  // A set: a consumer may read a record twice (a rebalance while the group settles, seen in CI),
  // and counting reads would stop before the last distinct one.
  const received = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    // Whatever came back within 60 s is compared below: a lost record fails, not hangs, the test.
    setTimeout(resolve, 60_000).unref();
    consumer
      .run({
        eachMessage: async ({ message }) => {
          received.add(message.value!.toString());
          if (received.size === sent.length) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect(); // commits the offsets of the group
  t.same([...received].sort(), sent.map((m) => m.value).sort(), 'every produced message came back');

  const [offsets] = await admin.fetchOffsets({ groupId: 'lk-single-group', topics: ['lk-single'] });
  const committed = offsets.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  // Up to the end of the log, not to sent.length: on a slow machine a produce that timed out after
  // the broker appended it is retried, and the log holds those records twice (seen in CI: 328).
  const end = (await admin.fetchTopicOffsets('lk-single')).reduce((sum, p) => sum + Number(p.high), 0);
  t.ok(end >= sent.length, `the log holds every produced record (${end})`);
  t.equal(committed, end, 'the group committed its offsets to the end of the log');
  await admin.disconnect();

  await kafka.stop();
  t.equal(kafka.pids.length, 0, 'java process gone');
  t.equal(await portOpen(kafka.brokers[0]), false, 'broker port closed after stop()');
});

t.test('a data directory of its own (npm start\'s) is the owner\'s alone at every start: the log segments hold every record\'s routing in clear', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lgsp-kafka-modes-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // As the umask, a restore or a copy without modes leaves it: readable by everyone.
  chmodSync(dataDir, 0o755);
  const kafka = await startLocalKafka({ nodes: 1, dataDir });
  t.teardown(() => kafka.stop());
  t.equal((statSync(dataDir).mode & 0o777).toString(8), '700', 'narrowed to 0700');
  await kafka.stop();
});

t.test('3-node cluster: RF 3 topic survives one node down (acks=-1), node restarts', async (t) => {
  const kafka = await startLocalKafka({ nodes: 3, heapMb: 384 });
  t.teardown(() => kafka.stop());
  t.equal(kafka.brokers.length, 3);
  t.equal(kafka.pids.length, 3);

  const k = client(kafka);
  const admin = k.admin();
  await admin.connect();
  await createTopic(admin, 'lk-cluster', 3);
  const meta = await admin.fetchTopicMetadata({ topics: ['lk-cluster'] });
  for (const p of meta.topics[0].partitions) t.equal(p.replicas.length, 3, `partition ${p.partitionId} has 3 replicas`);

  const producer = k.producer();
  await producer.connect();
  await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'lk-cluster', messages: messages('before', 50) }] });

  await kafka.stopNode(1);
  t.equal(kafka.pids.length, 2, 'one node stopped');
  t.equal(await portOpen(kafka.brokers[1]), false, 'stopped node no longer listens');
  // min.insync.replicas=2: two of three replicas are enough for acks=-1.
  const degraded = await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'lk-cluster', messages: messages('degraded', 50) }] });
  t.ok(degraded.length > 0 && degraded.every((r) => r.errorCode === 0), 'produced with acks=-1 while one node was down');

  await kafka.startNode(1);
  t.equal(kafka.pids.length, 3, 'node restarted');
  t.equal(await portOpen(kafka.brokers[1]), true, 'restarted node listens on the same port');
  await producer.sendBatch({ acks: -1, topicMessages: [{ topic: 'lk-cluster', messages: messages('after', 50) }] });
  await producer.disconnect();

  const offsets = await admin.fetchTopicOffsets('lk-cluster');
  t.equal(offsets.reduce((sum, p) => sum + Number(p.high), 0), 150, 'all 150 messages are in the log');
  await admin.disconnect();
});
