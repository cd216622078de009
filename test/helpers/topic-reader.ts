// Reads every record currently in a topic (tests inspect DLQ and audit topics with it).
import type { IHeaders } from 'kafkajs';
import { testKafka } from './test-kafka.js';

export interface ReadRecord {
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined) out[k] = (Array.isArray(v) ? v[0] : v)!.toString();
  return out;
}

/**
 * Every record in the topic up to its end when called (and at least `expectAtLeast`), or what
 * arrived within `timeoutMs`. Stopping at a count alone returned early: a topic with two
 * partitions gave its first records before the other partition's (seen in CI).
 */
export async function readTopic(brokers: string[], topic: string, expectAtLeast: number, timeoutMs = 15_000): Promise<ReadRecord[]> {
  const kafka = testKafka('test-reader', 'admin', brokers);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const need = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]));
  const reached = new Map<number, number>();
  const caughtUp = () => [...need].every(([partition, high]) => (reached.get(partition) ?? 0) >= high);
  const consumer = kafka.consumer({ groupId: `test-reader-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers: headersToStrings(message.headers) });
      reached.set(partition, Math.max(reached.get(partition) ?? 0, Number(message.offset) + 1));
    },
  });
  const deadline = Date.now() + timeoutMs;
  while ((records.length < expectAtLeast || !caughtUp()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return records;
}
