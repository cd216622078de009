// Ceiling B: what kafkajs alone gets from this broker with acks=all and the gateway's batch
// size — the upper bound for anything the gateway can durably accept.
import type { KafkaSettings } from '../../services/platform/config.js';
import { createKafka, ensureTopics } from '../../services/platform/kafka-transport.js';

export async function measureKafkaCeiling(settings: KafkaSettings, topic: string, valueBytes: number, batchSize: number, durationMs: number): Promise<{ messagesPerSecond: number; batchSize: number; valueBytes: number; inFlight: number }> {
  // As admin: the ceiling topic is outside the bus's ACLs.
  const kafka = createKafka('bench-ceiling-b', settings, 'admin');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 6);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const value = Buffer.alloc(valueBytes, 'x');
  const messages = Array.from({ length: batchSize }, (_, i) => ({ key: String(i), value }));
  const inFlight = 4;
  let sent = 0;
  const end = Date.now() + durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < end) {
        await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
        sent += batchSize;
      }
    }),
  );
  const elapsed = Date.now() - started;
  await producer.disconnect();
  return { messagesPerSecond: Math.round((sent / elapsed) * 1000), batchSize, valueBytes, inFlight };
}
