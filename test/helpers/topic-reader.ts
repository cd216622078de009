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

export async function readTopic(brokers: string[], topic: string, expectAtLeast: number, timeoutMs = 15_000): Promise<ReadRecord[]> {
  const kafka = testKafka('test-reader', 'admin', brokers);
  const consumer = kafka.consumer({ groupId: `test-reader-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers: headersToStrings(message.headers) });
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (records.length < expectAtLeast && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return records;
}
