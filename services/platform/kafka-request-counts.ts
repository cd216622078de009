// Kafka requests this process sent, by API (Produce, Fetch, OffsetCommit, Heartbeat, Metadata,
// …), for /metrics (`lgsp_kafka_requests_total{api}`) and the bench. The broker's CPU follows the
// number of requests far more than the number of records (a batch of 500 costs about what a
// batch of one does), so this is the figure to watch when the broker's share grows. Counted from
// kafkajs's REQUEST instrumentation event on every producer, consumer and admin client made from
// a Kafka instance createKafka() returned.
import type { Kafka } from 'kafkajs';

const sent = new Map<string, number>();

function count(event: { payload: { apiName: string } }): void {
  sent.set(event.payload.apiName, (sent.get(event.payload.apiName) ?? 0) + 1);
}

/** A producer, consumer or admin client, counting its requests. */
function counted<C extends { on(event: string, listener: typeof count): unknown; events: { REQUEST: string } }>(client: C): C {
  client.on(client.events.REQUEST, count);
  return client;
}

/** The same Kafka instance, its clients counting their requests. */
export function countingRequests(kafka: Kafka): Kafka {
  const producer = kafka.producer.bind(kafka);
  const consumer = kafka.consumer.bind(kafka);
  const admin = kafka.admin.bind(kafka);
  kafka.producer = (config) => counted(producer(config));
  kafka.consumer = (config) => counted(consumer(config));
  kafka.admin = (config) => counted(admin(config));
  return kafka;
}

/** Requests sent so far by this process, by API name. */
export function kafkaRequestTotals(): Iterable<[{ api: string }, number]> {
  return [...sent].map(([api, n]) => [{ api }, n]);
}
