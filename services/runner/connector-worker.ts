// Runs one connector as a Kafka consumer group. Around the connector's handle() it does what
// no connector should have to: verify the gateway's signature before the connector sees
// anything, dedupe, retry with backoff through lgsp.retry.<connector>, dead-letter with a
// reason, publish every outcome as status + audit events, and only then let the offset go.
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import type { ValidateFunction } from 'ajv';
import { eventRecords, messageEvent, type BusEvent } from '../platform/bus-events.js';
import { normalizeNfc, verifyPayloadDigest, type Envelope } from '../platform/envelope.js';
import { replyRecord } from '../platform/reply-topic.js';
import type { BatchingProducer, OutgoingRecord } from '../platform/kafka-transport.js';
import type { Logger } from '../platform/logger.js';
import type { PlatformKeystore } from '../platform/keystore.js';
import { PROOF_HEADER, SIGNATURE_HEADER, type RecordVerifier } from '../platform/record-signing.js';
import type { Registry } from '../platform/registry.js';
import { headerValue, startSignedConsumer, type BatchControl, type ConsumedRecord } from '../platform/signed-consumer.js';
import type { Topics } from '../platform/topics.js';
import { isRetryable, PermanentError, RetryableError } from '../platform/delivery.js';
import type { ConnectorContext, ConnectorMetrics, ConnectorSecrets, ConnectorState } from '@lgsp/sdk';
import { secretsOf } from '@lgsp/sdk/secrets';
import { DISCARDING_METRICS } from '@lgsp/sdk/metrics';
import type { LoadedConnector } from './connector-loader.js';
import type { DeliveryLedger, LedgerState } from './delivery-ledger.js';
import { retryDelayMs, type RetryPolicy } from './retry-policy.js';
import { boundedAttempt, boundedDueTime } from './control-headers.js';
import { deliverSigned } from '../platform/signed-delivery.js';
import { AttachmentUnavailable, type AttachmentStore } from '../attachments/attachment-store.js';
import { ATTEMPT_HEADER, DEPOSITED_AT_HEADER, DLQ_REASON_HEADER, NOT_BEFORE_HEADER, ORIGIN_TOPIC_HEADER } from '../platform/bus-headers.js';
import { v7 as uuidv7 } from 'uuid';

export type WorkerState = 'starting' | 'running' | 'paused' | 'failed' | 'stopped';

export interface WorkerDeps {
  kafka: Kafka;
  producer: BatchingProducer;
  topics: Topics;
  registry: () => Registry;
  keystore: PlatformKeystore;
  verifier: RecordVerifier;
  validateEnvelope: ValidateFunction;
  ledger: DeliveryLedger;
  /** The connector's keyed state (ctx.state), shared by every runner replica. */
  state: ConnectorState;
  log: Logger;
  policy: RetryPolicy;
  deliveryTimeoutMs: number;
  partitionsConsumedConcurrently: number;
  /** Messages of different keys handled at once per partition. */
  concurrency: number;
  /** Claim-check store for attachments (ctx.readAttachment). */
  attachments?: AttachmentStore;
  /** Called once per message the destination acknowledged (the delivery latency histogram). */
  observeDelivered?(envelope: Envelope): void;
}

export interface WorkerStats {
  delivered: number;
  retried: number;
  deadLettered: number;
  rejected: number;
  duplicates: number;
}

class Rejection extends Error {}

/** What a chunk of records produced: outcome records to publish, deliveries to mark announced. */
interface ChunkOutcome {
  records: OutgoingRecord[];
  /** Delivered in this chunk: written to the ledger in one transaction before the produce. */
  delivered: Set<string>;
  announced: string[];
  /** Ledger rows of the chunk's messages, read in one statement before the chunk is handled. */
  ledger: Map<string, LedgerState>;
  /** The ids that lookup covered (the records' lgsp-id headers): others are looked up one by one. */
  looked: Set<string>;
}

const CHUNK_SIZE = 500;

// For a LoadedConnector built without them (e.g. by a test): metrics go nowhere, no secrets.
const NO_SECRETS: ConnectorSecrets = secretsOf('connector', {}, new Map());

function signatureHeaders(headers: IHeaders): IHeaders {
  const out: IHeaders = {};
  for (const name of [SIGNATURE_HEADER, PROOF_HEADER]) if (headers[name] !== undefined) out[name] = headers[name];
  return out;
}

export class ConnectorWorker {
  state: WorkerState = 'starting';
  lastError: string | null = null;
  readonly stats: WorkerStats = { delivered: 0, retried: 0, deadLettered: 0, rejected: 0, duplicates: 0 };
  private consumer: Consumer | null = null;
  private readonly abort = new AbortController();
  private readonly name: string;
  private readonly actor: string;

  constructor(
    private readonly loaded: LoadedConnector,
    private readonly deps: WorkerDeps,
  ) {
    this.name = loaded.definition.name;
    this.actor = `runner/${this.name}`;
  }

  private get metrics(): ConnectorMetrics {
    return this.loaded.metrics ?? DISCARDING_METRICS;
  }

  private get secrets(): ConnectorSecrets {
    return this.loaded.secrets ?? NO_SECRETS;
  }

  get topics(): string[] {
    const codes = this.deps.registry().serviceCodesFor(this.name);
    return [...codes.map((c) => this.deps.topics.message(c)), this.deps.topics.retry(this.name)];
  }

  async start(): Promise<void> {
    await this.loaded.definition.start?.({ connector: this.name, config: this.loaded.config, log: this.deps.log, metrics: this.metrics, secrets: this.secrets, state: this.deps.state });
    // A start() that outlived the runner's start timeout must not bring up a consumer afterwards.
    if (this.abort.signal.aborted) throw new Error('stopped while starting');
    this.consumer = await startSignedConsumer({
      kafka: this.deps.kafka,
      groupId: `${this.deps.topics.prefix}lgsp-connector-${this.name}`,
      topics: this.topics,
      verifier: this.deps.verifier,
      log: this.deps.log,
      partitionsConsumedConcurrently: this.deps.partitionsConsumedConcurrently,
      handleBatch: (records, control) => this.handleBatch(records, control),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.applyPauseState());
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.lastError = `consumer crashed: ${e.payload.error.message}`;
    });
    if (this.state === 'starting') this.state = 'running';
    else this.applyPauseState();
  }

  /**
   * Pause and resume are remembered and re-applied whenever the consumer (re)joins its group:
   * a consumer restarting after a broker outage would otherwise silently forget a pause, and
   * calling kafkajs while it restarts throws.
   */
  pause(): void {
    this.state = 'paused';
    this.applyPauseState();
  }

  resume(): void {
    this.state = 'running';
    this.applyPauseState();
  }

  private applyPauseState(): void {
    if (!this.consumer) return;
    const topics = this.topics.map((topic) => ({ topic }));
    try {
      if (this.state === 'paused') this.consumer.pause(topics);
      else this.consumer.resume(topics);
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'pause state deferred until the group is joined');
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.loaded.definition.stop?.().catch(() => undefined);
    this.state = 'stopped';
  }

  /**
   * A fetched batch is worked in chunks. Within a chunk, records with different keys are
   * handled concurrently (records with the same key — same destination and correlation id —
   * stay in order), and all their outcome events go to Kafka in one produce. Waiting for one
   * acks=all round trip per chunk instead of per message is what lets a partition deliver
   * more than a few hundred messages a second. Offsets move only after that produce.
   */
  private async handleBatch(records: ConsumedRecord[], control: BatchControl): Promise<void> {
    for (let i = 0; i < records.length; i += CHUNK_SIZE) {
      if (this.state === 'paused') await this.holdWhilePaused(control);
      if (!control.isRunning()) return;
      const chunk = records.slice(i, i + CHUNK_SIZE);
      const looked = new Set(chunk.map((r) => headerValue(r.headers, 'lgsp-id')).filter((id): id is string => Boolean(id)));
      const outcome: ChunkOutcome = { records: [], delivered: new Set(), announced: [], ledger: await this.deps.ledger.lookupMany([...looked]), looked };
      const byKey = new Map<string, ConsumedRecord[]>();
      for (const r of chunk) {
        const key = r.key ?? `${r.partition}:${r.offset}`;
        const list = byKey.get(key);
        if (list) list.push(r);
        else byKey.set(key, [r]);
      }
      const groups = [...byKey.values()];
      let next = 0;
      const lane = async () => {
        while (next < groups.length) {
          for (const r of groups[next++]) await this.process(r, control, outcome);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.deps.concurrency, groups.length) }, lane));
      // A crash between a delivery and this write re-delivers (at-least-once; receivers dedupe
      // by LGSP-Message-Id); it never loses.
      await this.deps.ledger.markDeliveredMany([...outcome.delivered]);
      if (outcome.records.length > 0) await this.deps.producer.send(outcome.records);
      await this.deps.ledger.markAnnouncedMany(outcome.announced);
      this.stats.delivered += outcome.announced.length;
      control.resolveOffset(chunk[chunk.length - 1].offset);
      await control.heartbeat();
    }
  }

  /**
   * Pausing stops fetching, but a batch already fetched (a long poll in flight when the operator
   * paused) would still arrive here: hold it, heartbeating, until resume. If the runner stops
   * meanwhile, throw rather than return, so none of the held records counts as consumed.
   */
  private async holdWhilePaused(control: BatchControl): Promise<void> {
    while (this.state === 'paused' && !this.abort.signal.aborted && control.isRunning()) {
      await new Promise((r) => setTimeout(r, 200));
      await control.heartbeat();
    }
    if (this.state === 'paused' || this.abort.signal.aborted) throw new Error('runner stopping while paused');
  }

  private async process(record: ConsumedRecord, control: BatchControl, outcome: ChunkOutcome): Promise<void> {
    let envelope: Envelope;
    try {
      envelope = this.checkRecord(record);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      return this.reject(record, err.message, outcome);
    }
    const seen = outcome.delivered.has(envelope.id) ? 'announced' : await this.ledgerState(envelope.id, outcome);
    if (seen !== 'no') {
      this.stats.duplicates++;
      if (seen === 'unannounced') this.announceDelivered(envelope, [], { attempt: this.attemptOf(record), recovered: true }, outcome);
      return;
    }
    await this.waitUntilDue(record, control);
    if (this.abort.signal.aborted) throw new Error('runner stopping');

    const attempt = this.attemptOf(record);
    const routed = attempt === 1 ? [messageEvent('routed', envelope, this.actor, { connector: this.name })] : [];
    try {
      const result = await this.loaded.definition.handle(envelope, this.context(envelope, attempt));
      outcome.delivered.add(envelope.id);
      if (result?.outcome === 'deposited') {
        // In the recipient's inbox: `delivered` is published when the system acknowledges it.
        outcome.records.push(...[...routed, messageEvent('deposited', envelope, this.actor, { attempt, ...(result.detail ?? {}) })].flatMap((e) => eventRecords(this.deps.topics, e)));
        outcome.announced.push(envelope.id);
      } else {
        this.announceDelivered(envelope, routed, { attempt, ...(result?.detail ?? {}) }, outcome);
        this.deps.observeDelivered?.(envelope);
      }
    } catch (err) {
      if (this.abort.signal.aborted) throw err;
      this.failed(record, envelope, routed, attempt, err as Error & { retryAfterMs?: number }, outcome);
    }
  }

  /** The header id normally matches the envelope's; a record whose header lied is looked up on its own. */
  private async ledgerState(id: string, outcome: ChunkOutcome): Promise<LedgerState | 'no'> {
    if (!outcome.looked.has(id)) {
      outcome.looked.add(id);
      for (const [k, v] of await this.deps.ledger.lookupMany([id])) outcome.ledger.set(k, v);
    }
    return outcome.ledger.get(id) ?? 'no';
  }

  /** Everything a record must satisfy before a connector sees it. */
  private checkRecord(record: ConsumedRecord): Envelope {
    if (!record.verification.ok) throw new Rejection(record.verification.reason);
    let envelope: Envelope;
    try {
      envelope = JSON.parse(record.value!.toString('utf8')) as Envelope;
    } catch {
      throw new Rejection('record value is not JSON');
    }
    if (!this.deps.validateEnvelope(envelope)) throw new Rejection('record value is not a valid envelope');
    if (!verifyPayloadDigest(envelope)) throw new Rejection('payload digest mismatch');
    const topicService = this.deps.topics.serviceOf(record.topic);
    if (topicService !== null && topicService !== envelope.to.service) {
      throw new Rejection(`envelope is addressed to service ${envelope.to.service} but was found on ${record.topic}`);
    }
    const service = this.deps.registry().servicesOf(envelope.to.member, envelope.to.service)[0];
    if (!service || service.connector !== this.name) throw new Rejection(`service ${envelope.to.service} of ${envelope.to.member} is not delivered by ${this.name}`);
    return envelope;
  }

  private attemptOf(record: ConsumedRecord): number {
    return boundedAttempt(headerValue(record.headers, ATTEMPT_HEADER), this.deps.policy.maxAttempts);
  }

  /** Retry records carry the time they become due; wait for it without losing the group. */
  private async waitUntilDue(record: ConsumedRecord, control: BatchControl): Promise<void> {
    const due = boundedDueTime(headerValue(record.headers, NOT_BEFORE_HEADER), Date.now(), this.deps.policy.maxDelayMs);
    while (Date.now() < due && !this.abort.signal.aborted && control.isRunning()) {
      await new Promise((r) => setTimeout(r, Math.min(1000, due - Date.now())));
      await control.heartbeat();
    }
  }

  private context(envelope: Envelope, attempt: number): ConnectorContext<Record<string, unknown>> {
    const service = this.deps.registry().servicesOf(envelope.to.member, envelope.to.service)[0];
    const registry = this.deps.registry();
    return {
      connector: this.name,
      config: this.loaded.config,
      log: this.deps.log.child({ connector: this.name, messageId: envelope.id }),
      service: {
        code: service.code,
        provider: service.provider,
        system: service.system,
        endpoint: registry.endpointOf(service),
        ...(registry.system(service.system)?.documentDelivery ? { documentDelivery: registry.system(service.system)!.documentDelivery } : {}),
      },
      attempt,
      signal: this.abort.signal,
      deliver: (req) => deliverSigned(req, this.deps.keystore.signingKey, this.deps.deliveryTimeoutMs, this.abort.signal),
      emitStatus: (detail) => this.deps.producer.send(eventRecords(this.deps.topics, messageEvent('status', envelope, this.actor, detail))),
      metrics: this.metrics,
      secrets: this.secrets,
      state: this.deps.state,
      depositToInbox: async (deposit) => {
        if (deposit.id !== envelope.id || deposit.to.member !== envelope.to.member || deposit.to.service !== envelope.to.service) {
          throw new PermanentError('a connector may deposit only the message it is handling, to its own recipient');
        }
        await this.deps.producer.send([{
          topic: this.deps.topics.inbox,
          key: deposit.to.member,
          value: JSON.stringify(deposit),
          headers: { 'lgsp-id': deposit.id, 'lgsp-type': deposit.type, [DEPOSITED_AT_HEADER]: new Date().toISOString() },
        }]);
      },
      readAttachment: async (sha256, size) => {
        if (!this.deps.attachments) throw new PermanentError('this runtime has no attachment store configured');
        try {
          return await this.deps.attachments.read(sha256, size);
        } catch (err) {
          // Corrupted bytes never heal: dead-letter at once. Missing ones may still be arriving
          // (shared or eventually consistent storage): retry, then dead-letter with the reason.
          if (err instanceof AttachmentUnavailable) throw err.fault === 'corrupted' ? new PermanentError(err.message) : new RetryableError(err.message);
          throw err;
        }
      },
      reply: async (payload) => {
        const { record, value } = replyRecord(this.deps.topics, envelope, this.name, normalizeNfc(payload));
        await this.deps.producer.send([record, ...eventRecords(this.deps.topics, messageEvent('status', envelope, this.actor, { reply: 'sent', replyDigest: value.payloadDigest }))]);
      },
    };
  }

  private announceDelivered(envelope: Envelope, routed: BusEvent[], detail: Record<string, unknown>, outcome: ChunkOutcome): void {
    const events = [...routed, messageEvent('delivered', envelope, this.actor, detail)];
    outcome.records.push(...events.flatMap((e) => eventRecords(this.deps.topics, e)));
    outcome.announced.push(envelope.id);
  }

  private failed(record: ConsumedRecord, envelope: Envelope, routed: BusEvent[], attempt: number, err: Error & { retryAfterMs?: number }, outcome: ChunkOutcome): void {
    const reason = err.message || String(err);
    this.lastError = reason;
    const retryable = isRetryable(err);
    if (!retryable || attempt >= this.deps.policy.maxAttempts) {
      const why = retryable ? `gave up after ${attempt} attempts: ${reason}` : reason;
      const failedEvent = messageEvent('delivery_failed', envelope, this.actor, { attempt, reason, retryable });
      const dead = messageEvent('dead_lettered', envelope, this.actor, { attempts: attempt, reason: why });
      outcome.records.push(
        ...[...routed, failedEvent, dead].flatMap((e) => eventRecords(this.deps.topics, e)),
        this.deadLetterRecord(record, why, attempt),
      );
      this.stats.deadLettered++;
      return;
    }
    const delay = retryDelayMs(this.deps.policy, attempt, err.retryAfterMs);
    const nextAttemptAt = new Date(Date.now() + delay).toISOString();
    const failedEvent = messageEvent('delivery_failed', envelope, this.actor, { attempt, reason, retryable, nextAttemptAt });
    outcome.records.push(
      ...[...routed, failedEvent].flatMap((e) => eventRecords(this.deps.topics, e)),
      {
        topic: this.deps.topics.retry(this.name),
        key: record.key ?? undefined,
        value: record.value!,
        preserveSignature: signatureHeaders(record.headers),
        headers: {
          'lgsp-id': envelope.id,
          [ATTEMPT_HEADER]: String(attempt + 1),
          [NOT_BEFORE_HEADER]: String(Date.now() + delay),
          [ORIGIN_TOPIC_HEADER]: headerValue(record.headers, ORIGIN_TOPIC_HEADER) ?? record.topic,
        },
      },
    );
    this.stats.retried++;
  }

  private deadLetterRecord(record: ConsumedRecord, reason: string, attempts: number): OutgoingRecord {
    return {
      topic: this.deps.topics.deadLetter(this.name),
      key: record.key ?? undefined,
      value: record.value ?? Buffer.alloc(0),
      preserveSignature: signatureHeaders(record.headers),
      headers: {
        [DLQ_REASON_HEADER]: reason.slice(0, 1000),
        [ATTEMPT_HEADER]: String(attempts),
        [ORIGIN_TOPIC_HEADER]: headerValue(record.headers, ORIGIN_TOPIC_HEADER) ?? record.topic,
        'lgsp-failed-at': new Date().toISOString(),
        ...(headerValue(record.headers, 'lgsp-id') ? { 'lgsp-id': headerValue(record.headers, 'lgsp-id')! } : {}),
      },
    };
  }

  /**
   * A record that fails verification never reaches the connector. It is audited and
   * dead-lettered, but its claimed id is not trusted: no event is attached to that message's
   * timeline (a forger must not be able to mark someone else's message failed).
   */
  private reject(record: ConsumedRecord, reason: string, outcome: ChunkOutcome): void {
    this.lastError = `rejected record: ${reason}`;
    this.deps.log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason }, 'rejected bus record');
    const ev: BusEvent = {
      id: uuidv7(),
      event: 'rejected',
      at: new Date().toISOString(),
      actor: this.actor,
      detail: {
        stage: 'runner',
        reason,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        claimedMessageId: headerValue(record.headers, 'lgsp-id') ?? null,
      },
    };
    outcome.records.push(...eventRecords(this.deps.topics, ev), this.deadLetterRecord(record, `rejected: ${reason}`, 0));
    this.stats.rejected++;
  }
}
