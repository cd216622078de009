// Signed audit checkpoints kept outside the audit database: the leader publishes every
// checkpoint's JWS to the checkpoint topic (one partition, acks=all), and `lgsp audit verify`
// reads them back. Someone able to rewrite the database could delete the newest entries together
// with the checkpoints covering them and leave a chain that checks out on its own; the copies on
// Kafka still name a head the database no longer has. The JWS is self-verifying (platform key,
// typ lgsp-audit-checkpoint+jws), so the records need no bus signature of their own.
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { v4 as uuidv4 } from 'uuid';

export interface CheckpointPublisher {
  publish(jws: string): Promise<void>;
  disconnect(): Promise<void>;
}

export async function checkpointPublisher(kafka: Kafka, topic: string): Promise<CheckpointPublisher> {
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    async publish(jws) {
      await producer.send({ topic, acks: -1, messages: [{ key: 'checkpoint', value: jws }] });
    },
    disconnect: () => producer.disconnect(),
  };
}

/**
 * Every checkpoint JWS on the topic, oldest first (empty when the topic does not exist).
 * `busPrefix` is the bus's topic prefix: the throwaway group is named under it, where the audit
 * principal's ACLs allow groups (platform/kafka-acls.ts). `timeoutMs` bounds the wait for the
 * first record, connecting included, and then for each next one: with Kafka down the client's
 * own connection retries took tens of seconds, and the integrity check (GET /v1/audit/integrity,
 * the console's integrity box) waited them out before answering from the database alone. It is
 * not a bound on the whole read, which grows with the log: months of checkpoints outlast any
 * fixed one while records keep arriving, and `lgsp audit verify` then failed on a healthy broker.
 */
export async function readPublishedCheckpoints(kafka: Kafka, topic: string, busPrefix: string, timeoutMs = 15_000): Promise<string[]> {
  return (await readPublishedCheckpointsFrom(kafka, topic, busPrefix, timeoutMs, '0')).checkpoints;
}

/**
 * The checkpoint JWSs from `fromOffset` on (the topic has one partition), and the offset the read
 * ended at, where a later read may start: the integrity check of a long chain reads only what
 * was published after the seal of its last full pass (verification-seal.ts), not the whole log.
 */
export async function readPublishedCheckpointsFrom(kafka: Kafka, topic: string, busPrefix: string, timeoutMs: number, fromOffset: string): Promise<{ checkpoints: string[]; end: string }> {
  const admin = kafka.admin();
  // A throwaway group that commits nothing: reading must not leave traces on the cluster.
  const consumer = kafka.consumer({ groupId: `${busPrefix}lgsp-audit-verify-${uuidv4()}`, allowAutoTopicCreation: false });
  let timer: NodeJS.Timeout | undefined;
  let abandoned = false;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandoned = true;
      reject(new Error(`reading ${topic}: nothing arrived for ${timeoutMs} ms (is Kafka reachable?)`));
    }, timeoutMs);
  });
  const reading = readTopic(admin, consumer, topic, expired, BigInt(fromOffset), () => timer?.refresh());
  // Past the deadline the read is abandoned: its late failure (a connect given up) is no one's to handle.
  reading.catch(() => undefined);
  try {
    return await Promise.race([reading, expired]);
  } finally {
    clearTimeout(timer);
    const closing = Promise.allSettled([admin.disconnect(), consumer.disconnect()]);
    // An abandoned read's clients are closed without waiting: a request to a broker that never
    // answers holds a disconnect until the request's own timeout (30 s). Closing them still ends
    // their connection retries.
    if (!abandoned) await closing;
  }
}

async function readTopic(admin: Admin, consumer: Consumer, topic: string, expired: Promise<never>, from: bigint, progressed: () => void): Promise<{ checkpoints: string[]; end: string }> {
  await admin.connect();
  if (!(await admin.listTopics()).includes(topic)) return { checkpoints: [], end: '0' };
  const high = await admin.fetchTopicOffsets(topic);
  // The offset a later read starts from; the topic has one partition (another's would restart at 0).
  const end = high.reduce((max, p) => (BigInt(p.high) > max ? BigInt(p.high) : max), 0n).toString();
  const startOf = (p: { low: string }) => (BigInt(p.low) > from ? BigInt(p.low) : from);
  const wanted = new Map(high.filter((p) => BigInt(p.high) > startOf(p)).map((p) => [p.partition, BigInt(p.high)]));
  if (wanted.size === 0) return { checkpoints: [], end };
  await consumer.connect();
  const found: { partition: number; offset: bigint; jws: string }[] = [];
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    expired.catch(reject);
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          progressed();
          // Records fetched before the seek below took effect are not wanted.
          if (BigInt(message.offset) < from) return;
          if (message.value) found.push({ partition, offset: BigInt(message.offset), jws: message.value.toString('utf8') });
          const last = wanted.get(partition);
          if (last !== undefined && BigInt(message.offset) + 1n >= last) wanted.delete(partition);
          if (wanted.size === 0) resolve();
        },
      })
      .catch(reject);
    if (from > 0n) for (const p of high) if (BigInt(p.high) > startOf(p)) consumer.seek({ topic, partition: p.partition, offset: startOf(p).toString() });
  });
  return {
    checkpoints: found.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0)).map((f) => f.jws),
    end,
  };
}
