// Kafka transport on kafkajs. kafkajs sends one request per send() call, so the producer here
// micro-batches: callers enqueue records and get a promise; a flush signs the whole batch once
// (record-signing.ts) and sends it with one sendBatch, acks=all. The linger adapts to load: an
// idle producer sends a record at once (after `lingerMs`, 0 by default); while a flush is in
// flight everything arriving meanwhile waits and goes in the next one, so batches — and with
// them the Merkle signature, hashing and broker requests they share — grow with the load. A
// second flush goes out alongside when a full batch is waiting, or when records have waited
// WAIT_BEHIND_MS behind a slow flush (a busy broker): waiting is bounded, batching is not lost.
import { Kafka, logLevel, type Admin, type Producer, type IHeaders, type Message, type TopicMessages } from 'kafkajs';
import type { Logger } from './logger.js';
import { ConfigError, type KafkaSettings } from './config.js';
import { kafkaClientSecurity, type KafkaPrincipal } from './kafka-security.js';
import type { SigningKey } from './keystore.js';
import { signBatch } from './record-signing.js';
import { PartitionPinning } from './partition-acknowledgements.js';
import { noDelaySocketFactory } from './kafka-socket.js';
import { countingRequests } from './kafka-request-counts.js';
import './kafkajs-request-queue-fix.js';
import './kafkajs-encoder.js';
import './kafkajs-record-batch.js';

export interface OutgoingRecord {
  topic: string;
  key?: string;
  value: Buffer | string;
  /** Extra headers; signature headers are added by the producer. */
  headers?: Record<string, string>;
  /** Already-signed record being moved between topics (retry, DLQ, replay): keep its signature. */
  preserveSignature?: IHeaders;
}

/** The one place Kafka clients are made: every client connects as `principal` (kafka-security.ts). */
export function createKafka(clientId: string, settings: KafkaSettings, principal: KafkaPrincipal, log?: Logger): Kafka {
  const brokers = settings.kafkaBrokers;
  if (brokers.length === 0) throw new ConfigError('no Kafka brokers configured (KAFKA_BROKERS)');
  return countingRequests(new Kafka({
    clientId,
    brokers,
    ...kafkaClientSecurity(settings, principal),
    socketFactory: noDelaySocketFactory,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // Bounded retries: a caller waiting for a 202 must learn within seconds that Kafka is down.
    retry: { initialRetryTime: 200, retries: 3, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
    logCreator: () => ({ namespace, log: entry }) => {
      // Protocol-level error responses ("Response Xyz") are retried by kafkajs itself; they are
      // noise during leader elections, not something an operator must act on.
      if (namespace === 'Connection' && String(entry.message).startsWith('Response ')) return;
      log?.warn({ kafka: namespace, detail: entry.message, broker: entry.broker }, 'kafkajs');
    },
  }));
}

/**
 * Several processes starting together on a fresh broker race to create the same topics, and the
 * broker may answer UNKNOWN_TOPIC_OR_PARTITION while their metadata settles (creating them, or
 * subscribing right after): retriable.
 */
export async function retryTopicCreation(create: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await create();
      return;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

export function ensureTopics(admin: Admin, topics: string[], partitions: number, replicationFactor = -1): Promise<void> {
  return retryTopicCreation(() => createMissingTopics(admin, topics, partitions, replicationFactor));
}

async function createMissingTopics(admin: Admin, topics: string[], partitions: number, replicationFactor: number): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = [...new Set(topics)].filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
  } catch (err) {
    await awaitTopicsAfterCreateError(admin, missing, err);
    return;
  }
  // Created, and the controller has leaders; the broker that answers the next metadata request
  // may not know yet (UNKNOWN_TOPIC_OR_PARTITION right after creation on a 3-node cluster, seen
  // in CI). Callers produce or read metadata next: wait until it shows.
  await awaitTopicsAfterCreateError(admin, missing, new Error(`topics ${missing.join(', ')} created but not in the cluster's metadata within 15 s`));
}

/**
 * After createTopics (failed or not): another process may have created the topics concurrently,
 * or the broker's metadata lagged behind the creation (UNKNOWN_TOPIC_OR_PARTITION while waiting
 * for leaders, seen on a loaded machine). Fine once every topic exists and every partition has a
 * leader; otherwise `err` after 15 s.
 */
export async function awaitTopicsAfterCreateError(admin: Admin, topics: string[], err: unknown): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const now = new Set(await admin.listTopics().catch(() => [] as string[]));
    if (topics.every((t) => now.has(t))) {
      const ready = await admin
        .fetchTopicMetadata({ topics })
        .then((m) => m.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        .catch(() => false);
      if (ready) return;
    }
    if (Date.now() > deadline) throw err;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Bytes of record values per flush. Kafka refuses a request whose batch for one partition
 * exceeds message.max.bytes (1 MiB by default); staying well under it keeps large payloads
 * from failing whole batches.
 */
const MAX_FLUSH_BYTES = 768 * 1024;

/**
 * How long records may wait behind a flush in flight before another flush takes them. A quick
 * broker answers first (one flush in flight, batches as large as the load); a slow one does
 * not hold callers for a whole round trip each.
 */
const WAIT_BEHIND_MS = 5;

/** Sends of the records a sendBatch resolved without writing, before its callers get an error. */
const RESEND_ROUNDS = 5;

function valueBytes(records: OutgoingRecord[]): number {
  let n = 0;
  for (const r of records) n += typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length;
  return n;
}

interface Pending {
  records: OutgoingRecord[];
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface ProducerStats {
  batches: number;
  records: number;
  failures: number;
  /** The largest batch flushed so far (records). */
  largestBatch: number;
  /** Records sent again because Kafka's answer left their partition out (partition-acknowledgements.ts). */
  resent: number;
}

export interface BatchingProducerOptions {
  /** How long an idle producer waits for more records before flushing (0 = at once). */
  lingerMs: number;
  maxBatch: number;
  ttlSeconds: number;
  /** Flushes in flight at most; beyond the first, only for full batches. */
  maxInFlight?: number;
  /**
   * A send() not acknowledged within this long rejects with ProduceTimeoutError (default: it
   * waits as long as kafkajs retries, ~41 s against a broker that hangs). Its records may still
   * be appended later if they were already sent; records still queued are dropped.
   */
  acknowledgementTimeoutMs?: number;
}

/** Kafka did not acknowledge in time; the records may or may not be appended (see acknowledgementTimeoutMs). */
export class ProduceTimeoutError extends Error {
  override name = 'ProduceTimeoutError';
}

export class BatchingProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly idle: Array<() => void> = [];
  readonly stats: ProducerStats = { batches: 0, records: 0, failures: 0, largestBatch: 0, resent: 0 };
  private readonly pinning = new PartitionPinning();
  lastError: Error | null = null;

  constructor(
    kafka: Kafka,
    private readonly signingKey: () => SigningKey,
    private readonly opts: BatchingProducerOptions,
  ) {
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      maxInFlightRequests: undefined,
      createPartitioner: this.pinning.createPartitioner,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /**
   * Resolves once every record is acknowledged by all in-sync replicas. `untilAcknowledged`: no
   * acknowledgement timeout for these records (they stay queued until Kafka takes them), for a
   * record that must follow others whatever happens to the caller's wait (an audit follow-up).
   */
  send(records: OutgoingRecord[], opts: { untilAcknowledged?: boolean } = {}): Promise<void> {
    const sent = new Promise<void>((resolve, reject) => {
      const bytes = valueBytes(records);
      this.queue.push({ records, bytes, resolve, reject });
      this.queuedRecords += records.length;
      this.queuedBytes += bytes;
      this.schedule();
    });
    const timeoutMs = opts.untilAcknowledged ? 0 : this.opts.acknowledgementTimeoutMs;
    if (!timeoutMs) return sent;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Still queued (behind flushes that hang): never sent, so taken out.
        const index = this.queue.findIndex((p) => p.records === records);
        if (index >= 0) {
          const [p] = this.queue.splice(index, 1);
          this.queuedRecords -= p.records.length;
          this.queuedBytes -= p.bytes;
        }
        reject(new ProduceTimeoutError(`Kafka did not acknowledge within ${timeoutMs} ms`));
      }, timeoutMs);
      sent.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private batchIsFull(): boolean {
    return this.queuedRecords >= this.opts.maxBatch || this.queuedBytes >= MAX_FLUSH_BYTES;
  }

  /**
   * Idle: flush on the next turn of the event loop (records sent in the same turn go together),
   * or after lingerMs. Busy: wait for the flush in flight, unless a full batch is ready and
   * another flush may go alongside.
   */
  private schedule(): void {
    if (this.scheduled || this.queue.length === 0) return;
    const canAddFlight = this.inFlight < (this.opts.maxInFlight ?? 4);
    if (this.inFlight > 0 && !canAddFlight) return; // picked up when a flush completes
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.timer = null;
      if (this.inFlight === 0 || this.batchIsFull() || this.inFlight < (this.opts.maxInFlight ?? 4)) this.flush();
    };
    if (this.batchIsFull()) setImmediate(run);
    else if (this.inFlight > 0) this.timer = setTimeout(run, WAIT_BEHIND_MS);
    else if (this.opts.lingerMs > 0) this.timer = setTimeout(run, this.opts.lingerMs);
    else setImmediate(run);
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch: Pending[] = [];
    let count = 0;
    let bytes = 0;
    while (
      this.queue.length > 0 &&
      (count === 0 || (count + this.queue[0].records.length <= this.opts.maxBatch && bytes + this.queue[0].bytes <= MAX_FLUSH_BYTES))
    ) {
      const p = this.queue.shift()!;
      batch.push(p);
      count += p.records.length;
      bytes += p.bytes;
    }
    this.queuedRecords -= count;
    this.queuedBytes -= bytes;
    this.inFlight++;
    this.sendBatch(batch.flatMap((p) => p.records))
      .then(
        () => {
          this.lastError = null;
          this.stats.batches++;
          this.stats.records += count;
          if (count > this.stats.largestBatch) this.stats.largestBatch = count;
          for (const p of batch) p.resolve();
        },
        (err: Error) => {
          this.lastError = err;
          this.stats.failures++;
          for (const p of batch) p.reject(err);
        },
      )
      .finally(() => {
        this.inFlight--;
        if (this.queue.length > 0 && this.timer && this.inFlight === 0) {
          // The flush the records waited behind is back: they go now, not when the timer fires.
          clearTimeout(this.timer);
          this.timer = null;
          this.scheduled = false;
        }
        if (this.queue.length > 0) this.schedule();
        else if (this.inFlight === 0) this.idle.splice(0).forEach((f) => f());
      });
    // More than a full batch may be waiting: it can go alongside.
    this.schedule();
  }

  private async sendBatch(records: OutgoingRecord[]): Promise<void> {
    const fresh = records.filter((r) => !r.preserveSignature);
    // String values stay strings: hashed as UTF-8 and written by kafkajs straight into its
    // request buffer, without a Buffer copy of every (possibly 100 KiB) envelope in between.
    const values = fresh.map((r) => r.value);
    const signatures = fresh.length > 0 ? signBatch(values, this.signingKey(), this.opts.ttlSeconds) : [];
    const byTopic = new Map<string, Message[]>();
    let i = 0;
    for (const r of records) {
      const headers: IHeaders = r.preserveSignature ? { ...r.preserveSignature, ...r.headers } : { ...r.headers, ...signatures[i] };
      const value = r.preserveSignature ? r.value : values[i++];
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key, value, headers });
    }
    let unsent: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    for (let round = 1; ; round++) {
      const acknowledged = await this.producer.sendBatch({ acks: -1, topicMessages: unsent });
      unsent = this.pinning.unacknowledged(unsent, acknowledged);
      if (unsent.length === 0) return;
      const count = unsent.reduce((n, t) => n + t.messages.length, 0);
      if (round >= RESEND_ROUNDS) {
        throw new Error(`Kafka left ${count} record(s) of a batch unacknowledged after ${round} sends`);
      }
      this.stats.resent += count;
    }
  }

  /** Flushes what is queued and waits for in-flight batches. */
  async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.scheduled = false;
    }
    while (this.queue.length > 0 || this.inFlight > 0) {
      if (this.queue.length > 0 && this.inFlight === 0 && !this.scheduled) this.flush();
      await new Promise<void>((r) => (this.inFlight > 0 ? this.idle.push(r) : setImmediate(r)));
    }
  }

  async disconnect(): Promise<void> {
    await this.drain().catch(() => undefined);
    await this.producer.disconnect();
  }
}
