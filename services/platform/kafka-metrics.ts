// Prometheus figures for a service's Kafka traffic: what its BatchingProducer produced (records,
// batches, failed batches) and what its consumers consumed. Read from counters the transport
// already keeps, so the hot path does no extra work.
import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import { statsCounter } from './stats-counter.js';
import type { BatchingProducer } from './kafka-transport.js';
import type { CatchUp } from './restore-catch-up.js';

export function producerMetrics(metrics: MetricsRegistry, producer: BatchingProducer): void {
  const figures = [
    ['lgsp_kafka_produced_records_total', 'Records produced and acknowledged by Kafka (acks=all)', 'records'],
    ['lgsp_kafka_produced_batches_total', 'Batches produced (one signature and one sendBatch each)', 'batches'],
    ['lgsp_kafka_produce_failures_total', 'Batches Kafka did not acknowledge (their callers got an error)', 'failures'],
    ['lgsp_kafka_produce_resent_records_total', 'Records sent again because a produce answer left out their partition', 'resent'],
  ] as const;
  for (const [name, help, key] of figures) statsCounter({ name, help, registers: [metrics], read: () => producer.stats[key] });
}

/** Counts consumed records by consumer (e.g. `status`); call the returned function per batch. */
export function consumerMetrics(metrics: MetricsRegistry): (consumer: string, records: number) => void {
  const consumed = new Counter({
    name: 'lgsp_kafka_consumed_records_total',
    help: 'Records consumed from Kafka, by consumer',
    labelNames: ['consumer'],
    registers: [metrics],
  });
  return (consumer, records) => consumed.inc({ consumer }, records);
}

/**
 * Counts the records a read model read again because its database was behind its consumer group
 * (restored from an older dump: restore-catch-up.ts), by consumer; pass the returned function
 * as the consumer's onCatchUp, bound when the service starts (its series is 0 from then on).
 * An increase means records were read again: a restore, or a few after a rebalance (alerts.yml).
 */
export function catchUpMetrics(metrics: MetricsRegistry): (consumer: string) => (catchUp: CatchUp) => void {
  const reread = new Counter({
    name: 'lgsp_read_model_catch_up_records_total',
    help: 'Records a read model (ledger, audit, console dead letters) read again because its database was behind its consumer group: restored from an older copy',
    labelNames: ['consumer'],
    registers: [metrics],
  });
  return (consumer) => {
    // The series exists at 0 from the start: the catch-up comes seconds after a (re)start, and a
    // series first scraped at N gives Prometheus's increase() no earlier sample, so
    // LgspReadModelRewound would not fire; with it at 0 before, a restart onto a restored
    // database reads as an increase (same instance).
    reread.inc({ consumer }, 0);
    return (catchUp) => reread.inc({ consumer }, catchUp.records);
  };
}
