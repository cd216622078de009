// Runs one connector as a Kafka consumer group. Around the connector's handle() it does what
// no connector should have to: verify the gateway's signature before the connector sees
// anything, dedupe, retry with backoff through lgsp.retry.<connector>, dead-letter with a
// reason, publish every outcome as status + audit events, and only then let the offset go.
// The consumer never waits for a connector: records go to a dispatcher (record-dispatcher.ts)
// that runs them when they are due, and offsets are committed up to the lowest record not yet
// finished (offset-watermarks.ts), so a retry parked for 30 s holds up nothing but its commit.
// Retries are bounded in time (RetryPolicy.maxAgeMs from acceptance) so a destination's outage
// passes without dead letters; the parked set is bounded in memory (past the cap the retry
// topic's partition is paused and read again later, see spill()); and while a destination is
// down its retries are held behind one probe (destination-circuit.ts).
import { sliceWhole } from '../platform/whole-slice.js';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import type { ValidateFunction } from 'ajv';
import { eventRecords, handedOverEventId, messageEvent, type BusEvent } from '../platform/bus-events.js';
import { normalizeNfc, type Envelope } from '../platform/envelope.js';
import { replyRecord } from '../platform/reply-topic.js';
import { checkReply } from '../platform/reply-check.js';
import { checkStatusDetail } from '../platform/status-detail.js';
import type { BatchingProducer, OutgoingRecord } from '../platform/kafka-transport.js';
import type { Logger } from '../platform/logger.js';
import type { SigningKey } from '../platform/keystore.js';
import { PROOF_HEADER, SIGNATURE_HEADER, type RecordVerifier } from '../platform/record-signing.js';
import type { Registry } from '../platform/registry.js';
import { findCaughtUp } from '../platform/live-registry.js';
import { headerValue, startSignedConsumer, type BatchControl, type ConsumedRecord } from '../platform/signed-consumer.js';
import type { FetchWindow } from '../platform/kafkajs-fetch-window.js';
import type { Topics } from '../platform/topics.js';
import { isRetryable, PermanentError, RetryableError, waitsForEarlier } from '../platform/delivery.js';
import type { ConnectorContext, ConnectorMetrics, ConnectorSecrets, ConnectorState } from '@lgsp/sdk';
import { secretsOf } from '@lgsp/sdk/secrets';
import { DISCARDING_METRICS } from '@lgsp/sdk/metrics';
import type { LoadedConnector } from './connector-loader.js';
import type { DeliveryLedger, LedgerMark, LedgerState } from './delivery-ledger.js';
import { DeliveredMarker } from './delivered-marker.js';
import { CoalescedLedgerLookups } from './coalesced-ledger-lookups.js';
import { backoffStep, budgetLeft, formatDuration, gaveUpReason, requestRetryDelayMs, retryDelayMs, type RetryPolicy } from './retry-policy.js';
import { MAX_WAIT_SECONDS } from '../platform/request-wait.js';
import type { EarlierMessages } from './earlier-messages.js';
import { DestinationCircuits, type OpenCircuit } from './destination-circuit.js';
import { AttemptTimeLimit, type RunningAttempt } from '../platform/attempt-time-limit.js';
import { handlerError } from '../platform/handler-error.js';
import { forTheBus, thrownAt, unplannedErrorClass } from '../platform/unplanned-error.js';
import { OffsetWatermarks } from './offset-watermarks.js';
import { RecordDispatcher, type Dispatchable } from './record-dispatcher.js';
import { boundedAttempt, boundedDueTime } from './control-headers.js';
import { deliverSigned } from '../platform/signed-delivery.js';
import { AttachmentUnavailable, type AttachmentStore } from '../attachments/attachment-store.js';
import { ATTEMPT_HEADER, DEPOSITED_AT_HEADER, DESTINATION_HEADER, DLQ_REASON_HEADER, HELD_HEADER, NOT_BEFORE_HEADER, ORIGIN_TOPIC_HEADER, RETRY_SINCE_HEADER, WAITED_AT_HEADER, WAITS_HEADER } from '../platform/bus-headers.js';
import { uuidv7 } from '../platform/uuid7.js';
import type { PayloadSealing } from '../platform/sealed-payload.js';

export type WorkerState = 'starting' | 'running' | 'paused' | 'failed' | 'stopped';

export interface WorkerDeps {
  kafka: Kafka;
  producer: BatchingProducer;
  topics: Topics;
  registry: () => Registry;
  /**
   * The registry after looking at its file now (LiveRegistry.latest), for a record whose service
   * registry() does not give this connector: the gateway may have read an edit first. registry()
   * when absent.
   */
  latestRegistry?: () => Registry;
  /**
   * The runner's delivery key, read at each delivery (a rotation applies at once). Only the
   * runtime calls it: the connector gets ctx.deliver, never the key.
   */
  deliveryKey: () => SigningKey;
  verifier: RecordVerifier;
  validateEnvelope: ValidateFunction;
  /** The validator of a request/reply type's replySchema (null for a type without one): ctx.reply() is checked against it. */
  replyValidator?: (type: string) => ValidateFunction | null;
  ledger: DeliveryLedger;
  /** The connector's keyed state (ctx.state), shared by every runner replica. */
  state: ConnectorState;
  log: Logger;
  policy: RetryPolicy;
  /** Parked retries kept in memory at most (count, bytes); past it the retry topic waits in Kafka. */
  parkedLimit: { records: number; bytes: number };
  deliveryTimeoutMs: number;
  /** How long one call of handle() may take before the attempt is abandoned (attempt-time-limit.ts); 60 s when absent. */
  attemptTimeoutMs?: number;
  partitionsConsumedConcurrently: number;
  /** Messages of different keys handled at once per partition. */
  concurrency: number;
  /** Offsets are committed at most this often (ms; 0 = after every published batch of outcomes). */
  commitIntervalMs?: number;
  /** The consumer group's session timeout (config consumerSessionTimeoutMs); 30 s when absent. */
  sessionTimeoutMs?: number;
  /** Fetch shaping (config runnerFetchMinBytes / runnerFetchMaxWaitMs / runnerFetchWindowMs / runnerFetchWindowBytes; a window of 0 ms is none, setFetchWindow); kafkajs-level defaults when absent. */
  fetch?: { minBytes: number; maxWaitTimeInMs: number; window?: FetchWindow };
  /** Outcomes of deliveries finishing within this many ms share a ledger statement and a produce (config runnerOutcomeWindowMs; default: the next turn). */
  outcomeWindowMs?: number;
  /** Opens payloads sealed for the runner; seals inbox deposits and replies for the gateway. */
  payloads: PayloadSealing;
  /** Claim-check store for attachments (ctx.readAttachment). */
  attachments?: AttachmentStore;
  /** Bounds WaitForEarlierMessage: whether an earlier message of the key is still on the bus (absent: waits until the budget ends). */
  earlierMessages?: EarlierMessages;
  /**
   * Called once per message the destination acknowledged (the delivery latency histograms); a
   * first attempt's also with when its record was taken from Kafka and when it was attempted.
   */
  observeDelivered?(envelope: Envelope, firstAttempt?: FirstAttemptTimes): void;
}

/** Where a first attempt's time went, as epoch ms (the delivery stage histogram). */
export interface FirstAttemptTimes {
  /** The record's Kafka timestamp: when the gateway's producer built its batch. */
  producedAt?: number;
  /** When this runner took the record from a fetch. */
  takenAt: number;
  /** When the attempt started (after the ledger check and any queueing in the dispatcher). */
  attemptedAt: number;
  /** When the destination answered. */
  answeredAt: number;
}

export interface WorkerStats {
  delivered: number;
  retried: number;
  deadLettered: number;
  rejected: number;
  duplicates: number;
}

class Rejection extends Error {}

/**
 * A genuine record (its signature verified, its envelope valid) whose payload no key of the
 * runner's keyring opens: a lost or not yet mounted payload-encryption key. Its id can be
 * trusted, so unlike other refusals its message's timeline says it was dead-lettered.
 */
class Undecryptable extends Rejection {
  constructor(
    message: string,
    readonly envelope: Envelope,
  ) {
    super(message);
  }
}

/** The delivery ledger could not be asked whether a record's message was delivered already (PostgreSQL unavailable). */
class LedgerUnavailable extends Error {}

/** What handling one record produced: outcome records to publish, deliveries to mark announced. */
interface RecordOutcome {
  records: OutgoingRecord[];
  /** Delivered (or deposited): written to the ledger as soon as the record finishes, before its outcome is published. */
  delivered: LedgerMark[];
  announced: string[];
}

/** A consumed record on its way through the dispatcher. */
interface Work extends Dispatchable {
  record: ConsumedRecord;
  /** Consumer-group generation it was taken in: after a rebalance its offset is no longer ours to commit. */
  generation: number;
  /**
   * The ledger's answer for the record's message id, read for the whole fetched batch in one
   * statement when it was taken, and when (ms): trusted only while fresh (see ledgerState).
   */
  ledgerHint?: { id: string; state: LedgerState | 'no'; at: number };
  /** From the retry topic (a retry or a replay), not a first attempt. */
  retry: boolean;
  /** When it was taken from a fetch (epoch ms). */
  takenAt: number;
  /** When its retry budget started (acceptance, or a replay), read once when it is first held. */
  budgetFrom?: number;
  /** Times running it failed inside the runner (runAgainAfterInternalError). */
  internalErrors?: number;
}

/** A ledger answer read at take time is used only this soon after (later, e.g. a parked retry, it is read again). */
const LEDGER_HINT_FRESH_MS = 1000;

interface Finished {
  work: Work;
  outcome: RecordOutcome;
  /** The ledger write of `outcome.delivered`, started when the record finished (delivered-marker.ts). */
  marked: Promise<void>;
}

/** Records taken but not started beyond which the consumer stops fetching (parked retries counted apart). */
const MAX_PENDING = 5000;
/** A spilled retry partition is resumed once parked retries are back under this share of the cap. */
const RESUME_BELOW = 0.8;
/** After a failed outcome flush (Kafka unavailable), try again after this long. */
const FLUSH_RETRY_MS = 1000;
/** A fetched batch whose ledger lookup failed (PostgreSQL unavailable) is looked up again after this long. */
const LOOKUP_RETRY_MS = 1000;
/** A call of handle() longer than this is abandoned when the runner sets no other limit. */
const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;

// For a LoadedConnector built without them (e.g. by a test): metrics go nowhere, no secrets.
const NO_SECRETS: ConnectorSecrets = secretsOf('connector', {}, new Map());

/** A consumed record's own headers as strings, signature aside (it travels as preserveSignature). */
function stringHeaders(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (name === SIGNATURE_HEADER || name === PROOF_HEADER) continue;
    const value = headerValue(headers, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

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
  private readonly dispatcher: RecordDispatcher<Work>;
  private readonly watermarks = new OffsetWatermarks();
  private generation = 0;
  /** Outcomes waiting for the next flush; one flush runs at a time, the rest batch behind it. */
  private finished: Finished[] = [];
  private flushing: Promise<void> | null = null;
  /** Finished records in the flush being published (with `finished`: counted against MAX_PENDING). */
  private publishing = 0;
  private readonly marker: DeliveredMarker;
  /** Ledger lookups of single records about to run, coalesced into few statements. */
  private readonly lookups: CoalescedLedgerLookups;
  /** Delivered, but not yet recorded as announced in the ledger: a duplicate seen meanwhile is skipped. */
  private readonly inFlightDelivered = new Set<string>();
  /**
   * Announced on Kafka, not yet marked so in the ledger: written with the next offset commit
   * (one statement per commit, not per published batch). A crash before that re-reads the
   * records and announces them again, without delivering them again.
   */
  private unmarkedAnnounced: string[] = [];
  /**
   * Fetched records waiting for their ledger lookup, in fetch order. One lookup is in flight at
   * a time with everything fetched meanwhile batched behind it: at low load a record is looked
   * up at once, under load lookups grow instead of multiplying.
   */
  /** Taken records waiting for their ledger lookup, in fetch order; `parks`: a retry not yet due. */
  private toLookUp: Array<{ work: Work; parks: boolean }> = [];
  /** The not-yet-due retries among them: they count against the parked cap before they park. */
  private queuedParked = { records: 0, bytes: 0 };
  private lookingUp = 0;
  private lookupRunning = false;
  /** The records whose batch lookup is running now (a request of the same key waits its turn). */
  private lookupInFlight: Array<{ work: Work }> = [];
  /** Message types a caller waits on (a replySchema in the manifest): looked up on their own. */
  private readonly requestTypes: Set<string>;
  private commitTimer: NodeJS.Timeout | null = null;
  private lastCommitAt = 0;
  private committing: Promise<void> | null = null;
  private commitAgain = false;
  private readonly roomWaiters: Array<() => void> = [];
  /** Consecutive failed attempts across all messages (waits aside); a delivery resets it. */
  private failureStreak = 0;
  private readonly circuits: DestinationCircuits;
  private readonly attempts: AttemptTimeLimit;
  /** Retry-topic partitions paused because the parked cap was reached ("topic\0partition"). */
  private readonly spilled = new Map<string, { topic: string; partition: number }>();
  /** The topics its consumer subscribed to (null before it started). */
  private subscribedTopics: string[] | null = null;

  constructor(
    private readonly loaded: LoadedConnector,
    private readonly deps: WorkerDeps,
  ) {
    this.name = loaded.definition.name;
    this.actor = `runner/${this.name}`;
    this.marker = new DeliveredMarker(deps.ledger, deps.outcomeWindowMs ?? 0);
    this.lookups = new CoalescedLedgerLookups(deps.ledger);
    this.dispatcher = new RecordDispatcher<Work>({
      concurrency: deps.concurrency,
      lanes: deps.registry().serviceCodesFor(this.name).length,
      run: (work) => this.run(work).catch((err: unknown) => this.runAgainAfterInternalError(work, err)),
    });
    this.circuits = new DestinationCircuits(deps.policy);
    // deps.log already names the connector (runner-service.ts): naming it again printed the key twice.
    this.attempts = new AttemptTimeLimit(deps.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS, this.abort.signal, (reason) => this.deps.log.warn({ reason }, 'connector attempt abandoned'));
    this.requestTypes = new Set(loaded.manifest.messageTypes.filter((mt) => mt.replySchema).map((mt) => mt.type));
  }

  /** Parked retries held in memory now, and their bytes (the lgsp_runner_parked_* gauges). */
  get parked(): { records: number; bytes: number } {
    return { records: this.dispatcher.parkedCount, bytes: this.dispatcher.parkedBytes };
  }

  /** Retry partitions paused because the parked cap was reached. */
  get spilledPartitions(): number {
    return this.spilled.size;
  }

  /** Destinations whose retries are held behind a probe. */
  get openCircuits(): OpenCircuit[] {
    return this.circuits.open();
  }

  private get metrics(): ConnectorMetrics {
    return this.loaded.metrics ?? DISCARDING_METRICS;
  }

  private get secrets(): ConnectorSecrets {
    return this.loaded.secrets ?? NO_SECRETS;
  }

  /**
   * The topics it consumes: its services' as the registry named them when it started (a consumer
   * subscribes once; runner-service.ts starts it again when the registry gives it a new service),
   * before that as the registry names them now.
   */
  get topics(): string[] {
    return this.subscribedTopics ?? this.topicsNow();
  }

  private topicsNow(): string[] {
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
      topics: (this.subscribedTopics = this.topicsNow()),
      verifier: this.deps.verifier,
      log: this.deps.log,
      partitionsConsumedConcurrently: this.deps.partitionsConsumedConcurrently,
      sessionTimeoutMs: this.deps.sessionTimeoutMs,
      minBytes: this.deps.fetch?.minBytes,
      maxWaitTimeInMs: this.deps.fetch?.maxWaitTimeInMs,
      fetchWindow: this.deps.fetch?.window,
      // Offsets are committed here, up to the lowest record not yet finished.
      autoCommit: false,
      handleBatch: (records, control) => this.take(records, control),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      // A (re)join reads every assigned partition again from its committed offset: what was
      // taken but not started is dropped (it comes again, here or to another runner).
      this.generation++;
      this.dispatcher.clear();
      this.watermarks.reset();
      // Positions were reset too: what was spilled is read from the committed offsets.
      this.spilled.clear();
      this.applyPauseState();
      // Back in its group (a broker outage is over): the crash is history, not a live fault.
      this.clearError('consumer crashed: ');
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.lastError = `consumer crashed: ${e.payload.error.message}`;
    });
    if (this.state === 'starting') this.state = 'running';
    else this.applyPauseState();
  }

  /**
   * An error of the bus's own infrastructure (Kafka, PostgreSQL) is the connector's last error
   * only while it lasts: once the consumer is back in its group, the ledger answers or outcomes
   * are published again, a running connector still showing it reads as a live fault (an
   * operator would look for an outage that is over). A receiving system's error is cleared when
   * that system takes a message again (reachedOrFailed's caller).
   */
  private clearError(prefix: string): void {
    if (this.lastError?.startsWith(prefix)) this.lastError = null;
  }

  /**
   * Pause and resume are remembered and re-applied whenever the consumer (re)joins its group:
   * a consumer restarting after a broker outage would otherwise silently forget a pause, and
   * calling kafkajs while it restarts throws.
   */
  pause(): void {
    this.state = 'paused';
    this.dispatcher.pause();
    this.applyPauseState();
  }

  resume(): void {
    this.state = 'running';
    this.dispatcher.resume();
    this.applyPauseState();
  }

  private applyPauseState(): void {
    if (!this.consumer) return;
    const topics = this.topics.map((topic) => ({ topic }));
    try {
      if (this.state === 'paused') this.consumer.pause(topics);
      else {
        this.consumer.resume(topics);
        const spilled = [...this.spilled.values()].map((p) => ({ topic: p.topic, partitions: [p.partition] }));
        if (spilled.length > 0) this.consumer.pause(spilled);
      }
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'pause state deferred until the group is joined');
    }
  }

  /**
   * Nothing new starts; running handlers see the abort signal. What finished is flushed and
   * committed before the consumer leaves; the rest (parked retries, records not started, aborted
   * handlers) stays uncommitted and is read again by whoever takes the partitions.
   */
  async stop(): Promise<void> {
    // Nothing new starts; deliveries already sent finish and are recorded before the rest is
    // aborted: one cut off after the destination took it would be delivered again by the runner
    // that takes this partition over. As long as a delivery may take (LGSP_DELIVERY_TIMEOUT_MS),
    // and a moment for its outcome: a shorter wait (it was 5 s) cut off the slow ones the
    // destination was still taking, and they were delivered twice.
    this.dispatcher.stop();
    this.roomWaiters.splice(0).forEach((f) => f());
    await withDeadline(this.dispatcher.idle(), this.deps.deliveryTimeoutMs + STOP_OUTCOME_MARGIN_MS);
    this.abort.abort();
    this.attempts.stop();
    this.roomWaiters.splice(0).forEach((f) => f());
    await withDeadline(this.flushing ?? Promise.resolve(), 5000);
    // What finished since the last periodic commit is committed now, not read again after the restart.
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    await withDeadline(this.commitNow(), 5000);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.loaded.definition.stop?.().catch(() => undefined);
    this.state = 'stopped';
  }

  /**
   * Takes a fetched batch and the consumer goes back to fetching: the batch's ledger lookup (one
   * statement: which of its messages were already delivered) runs meanwhile, and its records go
   * to the dispatcher when it answers — batches in the order they were fetched. The next fetch
   * never waits for PostgreSQL. Only when too much is already waiting (the destination cannot
   * keep up) does it hold the fetch loop, heartbeating, until there is room again.
   */
  private async take(records: ConsumedRecord[], control: BatchControl): Promise<void> {
    const generation = this.generation;
    const at = Date.now();
    for (const record of records) {
      const work = this.workFor(record, generation, at);
      // A retry that would wait in memory past the parked cap: this partition waits in Kafka instead.
      const parks = work.dueAt > at;
      if (parks && this.parkedFull(work.size ?? 0) && this.spill(record, control)) break;
      // Taken now, in offset order: nothing of this batch is committed before it is finished.
      this.watermarks.take(record.topic, record.partition, record.offset);
      if (this.isFreshRequest(work, parks)) {
        // Its ledger check is made when it runs (ledgerState, one id).
        this.dispatcher.add(work);
        continue;
      }
      this.toLookUp.push({ work, parks });
      this.lookingUp++;
      if (parks) this.countQueuedParked(work, 1);
    }
    if (!this.lookupRunning) {
      // Started after this turn of the event loop: kafkajs hands the batches of every partition
      // of one fetch over in the same turn, and they go in one statement instead of one each.
      this.lookupRunning = true;
      setImmediate(() => void this.lookUpAndDispatch());
    }
    while (!this.hasRoom() && control.isRunning() && !this.abort.signal.aborted) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 1000);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
      await control.heartbeat();
    }
  }

  private parkedFull(adding: number, share = 1): boolean {
    const limit = this.deps.parkedLimit;
    const records = this.dispatcher.parkedCount + this.queuedParked.records;
    const bytes = this.dispatcher.parkedBytes + this.queuedParked.bytes;
    return records + (adding > 0 ? 1 : 0) > limit.records * share || bytes + adding > limit.bytes * share;
  }

  /**
   * The parked cap is reached: the retry partition of `from` is paused and `from` and what
   * follows in the batch are handed back unresolved, so they stay in Kafka (not in memory) and
   * are fetched again from there once parked retries drain (no seek: a rejoin meanwhile reads
   * from the committed offset as usual). Only retry partitions spill: a message topic is never
   * paused for the sake of retries. False when the partition could not be paused (mid-rebalance):
   * the record is then taken as usual.
   */
  private spill(from: ConsumedRecord, control: BatchControl): boolean {
    if (!this.consumer) return false;
    try {
      this.consumer.pause([{ topic: from.topic, partitions: [from.partition] }]);
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'spill skipped until the group is joined');
      return false;
    }
    const id = `${from.topic}\u0000${from.partition}`;
    if (!this.spilled.has(id)) {
      this.deps.log.info({ topic: from.topic, partition: from.partition, offset: from.offset, parked: this.parked }, 'parked retries at the cap; retry partition paused');
    }
    this.spilled.set(id, { topic: from.topic, partition: from.partition });
    control.handBack(from.offset);
    return true;
  }

  /** Parked retries drained below the resume mark: spilled partitions are read again. */
  private unspill(): void {
    if (this.spilled.size === 0 || this.state !== 'running' || this.parkedFull(0, RESUME_BELOW)) return;
    const partitions = [...this.spilled.values()];
    this.spilled.clear();
    try {
      this.consumer?.resume(partitions.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
      this.deps.log.info({ partitions: partitions.length, parked: this.parked }, 'parked retries below the cap; retry partitions resumed');
    } catch (err) {
      this.deps.log.debug({ err: (err as Error).message }, 'resume deferred until the group is joined');
    }
  }

  /** Records waiting for their ledger lookup that will park count against the cap already. */
  private countQueuedParked(work: Work, sign: 1 | -1): void {
    this.queuedParked.records += sign;
    this.queuedParked.bytes += sign * (work.size ?? 0);
  }

  /** A queued record leaves the lookup queue (dispatched, or dropped after a rebalance). */
  private dropQueued(queued: { work: Work; parks: boolean }): void {
    this.lookingUp--;
    if (queued.parks) this.countQueuedParked(queued.work, -1);
  }

  /**
   * A request somebody waits on (POST /v1/requests), due now, with no record of its key waiting
   * for a lookup before it: it goes to the dispatcher at once and is looked up in the ledger on
   * its own when it runs, instead of behind the batch lookup in flight, which under a burst of
   * other messages takes a few hundred milliseconds (measured in test/retry-storm.test.ts).
   * Records of one key still reach the dispatcher, and so start, in the order they were fetched.
   */
  private isFreshRequest(work: Work, parks: boolean): boolean {
    if (parks || this.requestTypes.size === 0) return false;
    const type = headerValue(work.record.headers, 'lgsp-type');
    if (type === undefined || !this.requestTypes.has(type)) return false;
    const sameKey = (queued: { work: Work }) => queued.work.key === work.key;
    return !this.lookupInFlight.some(sameKey) && !this.toLookUp.some(sameKey);
  }

  /**
   * Asks the ledger which of the waiting records' messages it already holds (one statement for
   * all of them) and hands them to the dispatcher in fetch order; repeats while more arrived.
   * While PostgreSQL is unavailable the records wait, uncommitted, and the lookup is tried again.
   * Records of an earlier generation (a rebalance meanwhile) are dropped: they are read again
   * from the committed offset.
   */
  private async lookUpAndDispatch(): Promise<void> {
    try {
      while (this.toLookUp.length > 0 && !this.abort.signal.aborted) {
        const batch = this.toLookUp.filter((w) => w.work.generation === this.generation);
        for (const stale of this.toLookUp) if (stale.work.generation !== this.generation) this.dropQueued(stale);
        this.toLookUp = [];
        const ids = batch.map((w) => headerValue(w.work.record.headers, 'lgsp-id')).filter((id): id is string => Boolean(id));
        let known: Map<string, LedgerState>;
        this.lookupInFlight = batch;
        try {
          known = await this.deps.ledger.lookupMany(ids);
        } catch (err) {
          this.lastError = `delivery ledger unavailable: ${(err as Error).message}`;
          this.deps.log.warn({ err: (err as Error).message }, 'delivery ledger lookup failed; trying again');
          this.toLookUp = [...batch, ...this.toLookUp];
          await new Promise((r) => setTimeout(r, LOOKUP_RETRY_MS));
          continue;
        }
        this.clearError('delivery ledger unavailable: ');
        const at = Date.now();
        for (const queued of batch) {
          this.dropQueued(queued);
          const { work } = queued;
          if (work.generation !== this.generation) continue;
          const id = headerValue(work.record.headers, 'lgsp-id');
          if (id) work.ledgerHint = { id, state: known.get(id) ?? 'no', at };
          this.dispatcher.add(work);
        }
      }
    } finally {
      this.lookupRunning = false;
      this.lookupInFlight = [];
    }
  }

  private workFor(record: ConsumedRecord, generation: number, takenAt: number): Work {
    const waitedAt = Number(headerValue(record.headers, WAITED_AT_HEADER) ?? 0);
    const destination = headerValue(record.headers, DESTINATION_HEADER);
    return {
      record,
      generation,
      retry: record.topic === this.deps.topics.retry(this.name),
      takenAt,
      size: (record.value?.length ?? 0) + (record.key?.length ?? 0) + 256,
      ...(destination ? { group: destination } : {}),
      key: record.key ?? `${record.topic}:${record.partition}:${record.offset}`,
      // A retry is dispatched with the service it was addressed to, so it shares that service's slots.
      lane: headerValue(record.headers, ORIGIN_TOPIC_HEADER) ?? record.topic,
      // Bounded: a copied record with a far not-before waits one retry delay at most (control-headers.ts).
      // A retry put back while its destination was down goes at once when the destination is
      // not known to be down (any more): it was never attempted, so only the outage delayed it.
      dueAt: destination && headerValue(record.headers, HELD_HEADER) && !this.circuits.isOpen(destination)
        ? 0
        : boundedDueTime(headerValue(record.headers, NOT_BEFORE_HEADER), Date.now(), this.deps.policy.maxDelayMs) || 0,
      // Most ids are UUIDv7 and sort by acceptance time; an idempotent submission's do not
      // (idempotent-message-id.ts), so parked records of one key released together may then
      // run out of order: one that runs too early waits again (WaitForEarlierMessage) until
      // its predecessor succeeds, and "newest wins" guards compare acceptanceOrder(), not ids.
      order: headerValue(record.headers, 'lgsp-id') ?? '',
      ...(waitedAt > 0 ? { waitsForEarlier: { attemptedAt: waitedAt } } : {}),
    };
  }

  /** Runs one record for the dispatcher; true when it was delivered (or deposited). */
  private async run(work: Work): Promise<boolean> {
    this.unspill();
    const outcome: RecordOutcome = { records: [], delivered: [], announced: [] };
    let succeeded: boolean;
    let probe = false;
    if (work.retry && work.group !== undefined) {
      const admission = this.circuits.admit(work.group);
      if (!admission.go) {
        if (this.hold(work, admission.until, outcome)) return false;
      } else probe = admission.probe;
    }
    try {
      succeeded = await this.process(work.record, outcome, work.ledgerHint, work.retry ? undefined : work.takenAt);
    } catch (err) {
      // Stopping: the record stays uncommitted and is handled again after the restart.
      if (this.abort.signal.aborted) return false;
      if (err instanceof LedgerUnavailable) {
        // Nothing was attempted: the record waits (parked, uncommitted) and asks again.
        this.lastError = `delivery ledger unavailable: ${err.message}`;
        this.deps.log.warn({ err: err.message }, 'delivery ledger lookup failed; trying again');
        work.dueAt = Date.now() + LOOKUP_RETRY_MS;
        work.ledgerHint = undefined;
        this.dispatcher.add(work);
        return false;
      }
      throw err;
    } finally {
      // A probe that ended without reaching the destination's circuit (a duplicate, a rejected
      // record, stopping) must not leave the circuit waiting for it.
      if (probe) this.circuits.probeAbandoned(work.group!);
    }
    for (const { id } of outcome.delivered) this.inFlightDelivered.add(id);
    this.finished.push({ work, outcome, marked: this.marker.mark(outcome.delivered) });
    // It ran through this time: its earlier internal error is history.
    if (work.internalErrors && this.lastError?.startsWith(`runner error handling ${headerValue(work.record.headers, 'lgsp-id')}:`)) this.lastError = null;
    this.flushing ??= this.flushLoop();
    return succeeded;
  }

  /**
   * An error of the runner's own bookkeeping around a record (a fault of ours, not an answer of
   * the destination): nothing says the record was handled, so it stays uncommitted and runs again
   * after a pause that grows like a retry's, and the operator sees why, in the log and on the
   * connector's status. Before, the error was dropped without a word and the record never
   * finished: its key ran nothing else and its partition's offsets stopped for good.
   */
  private runAgainAfterInternalError(work: Work, err: unknown): boolean {
    if (this.abort.signal.aborted) return false;
    const record = work.record;
    const id = headerValue(record.headers, 'lgsp-id') ?? `${record.topic}/${record.partition}@${record.offset}`;
    const reason = err instanceof Error ? err.message : String(err);
    work.internalErrors = (work.internalErrors ?? 0) + 1;
    // An engine error's text may quote the record: the status and the log name its class and
    // where it was thrown only (unplanned-error.ts).
    const unplanned = unplannedErrorClass(err);
    this.lastError = `runner error handling ${id}: ${unplanned === null ? reason : `${unplanned} (its message is withheld; the runner's log names where it was thrown)`}`;
    const what = unplanned === null ? { err: reason, stack: err instanceof Error ? err.stack : undefined } : { errorClass: unplanned, at: thrownAt(err as Error) };
    this.deps.log.error({ messageId: id, ...what, times: work.internalErrors }, 'handling a record failed inside the runner; it runs again');
    work.dueAt = Date.now() + retryDelayMs(this.deps.policy, work.internalErrors);
    work.ledgerHint = undefined;
    this.dispatcher.add(work);
    return false;
  }

  /**
   * A retry for a destination whose circuit is open waits for the probe instead of calling it:
   * parked again in memory while under half the cap and nothing is spilled, else put back on the
   * retry topic (same attempt, marked held, due one longest delay later: it is read again at once
   * if the destination answers meanwhile, so a long outage re-writes it at most every
   * LGSP_RETRY_MAX_DELAY_MS). The other half keeps room for retries to
   * destinations that are up: one system down for hours must not fill the cap and so hold up,
   * behind a paused retry partition, the retries of every other system of the connector. A retry
   * whose budget is spent is not held: it makes its last attempt and is dead-lettered with the
   * reason. True when held.
   */
  private hold(work: Work, until: number, outcome: RecordOutcome): boolean {
    work.budgetFrom ??= this.budgetStart(work.record);
    if (budgetLeft(this.deps.policy, 0, work.budgetFrom, until).remainingMs <= 0) return false;
    if (this.spilled.size === 0 && !this.parkedFull(work.size ?? 0, 0.5)) {
      work.dueAt = until;
      work.ledgerHint = undefined;
      this.dispatcher.add(work);
      return true;
    }
    const record = work.record;
    outcome.records.push({
      topic: this.deps.topics.retry(this.name),
      key: record.key ?? undefined,
      value: record.value!,
      preserveSignature: signatureHeaders(record.headers),
      headers: { ...stringHeaders(record.headers), [NOT_BEFORE_HEADER]: String(Math.max(until, Date.now() + this.deps.policy.maxDelayMs)), [HELD_HEADER]: '1' },
    });
    this.finished.push({ work, outcome, marked: Promise.resolve() });
    this.flushing ??= this.flushLoop();
    return true;
  }

  /** When a record's retry budget started: a replay's start, else the envelope's acceptance time. */
  private budgetStart(record: ConsumedRecord, envelope?: Envelope): number {
    const now = Date.now();
    let accepted = envelope ? Date.parse(envelope.time) : NaN;
    if (!envelope) {
      try {
        accepted = Date.parse((JSON.parse(record.value!.toString('utf8')) as Envelope).time);
      } catch {
        accepted = NaN;
      }
    }
    if (!Number.isFinite(accepted)) accepted = now;
    // Unsigned, so trusted only between acceptance and now: it can restart a budget, never push one into the future.
    const since = Number(headerValue(record.headers, RETRY_SINCE_HEADER) ?? 0);
    return Number.isFinite(since) && since > accepted ? Math.min(since, now) : accepted;
  }

  /**
   * Publishes finished records' outcomes, one produce at a time with everything that finished
   * meanwhile batched behind it, then commits what that lets go. Outcomes that cannot be
   * published (Kafka down) are kept and tried again; their offsets stay uncommitted.
   */
  private async flushLoop(): Promise<void> {
    try {
      // Started from idle: the outcomes of deliveries that finish within the outcome window go
      // in one produce (their ledger marks share one statement: DeliveredMarker waits as long).
      // At moderate rates that halves the runner's round trips per message; under load the loop
      // never idles (a produce is in flight while the next outcomes gather), so it never waits.
      // Deliveries themselves are not held, only their `delivered` status and offset commits.
      const windowMs = this.deps.outcomeWindowMs ?? 0;
      await new Promise<void>((resolve) => (windowMs > 0 ? setTimeout(resolve, windowMs) : setImmediate(resolve)));
      while (this.finished.length > 0) {
        const batch = this.finished;
        this.finished = [];
        this.publishing = batch.length;
        const delivered = batch.flatMap((f) => f.outcome.delivered.map((m) => m.id));
        const announced = batch.flatMap((f) => f.outcome.announced);
        const records = batch.flatMap((f) => f.outcome.records);
        try {
          // A delivered event is published only once the ledger holds the delivery. A crash
          // between a delivery and its ledger write re-delivers (at-least-once; receivers dedupe
          // by LGSP-Message-Id); it never loses.
          await Promise.all(batch.map((f) => f.marked));
          if (records.length > 0) await this.deps.producer.send(records);
        } catch (err) {
          this.lastError = `outcomes not published: ${(err as Error).message}`;
          this.deps.log.warn({ err: (err as Error).message, outcomes: batch.length }, 'outcome events not published; retrying');
          // A ledger write that failed (PostgreSQL down) is made again; one that succeeded stands.
          for (const f of batch) {
            const retried = f.marked.catch(() => this.marker.mark(f.outcome.delivered));
            retried.catch(() => undefined); // awaited on the next try
            f.marked = retried;
          }
          this.finished = [...batch, ...this.finished];
          this.publishing = 0;
          if (this.abort.signal.aborted) return;
          await new Promise((r) => setTimeout(r, FLUSH_RETRY_MS));
          continue;
        }
        this.publishing = 0;
        this.clearError('outcomes not published: ');
        // Announced ones stay in inFlightDelivered until the ledger says so too (commitOnce).
        const toMark = new Set(announced);
        for (const id of delivered) if (!toMark.has(id)) this.inFlightDelivered.delete(id);
        this.unmarkedAnnounced.push(...announced);
        this.stats.delivered += announced.length;
        for (const f of batch) {
          if (f.work.generation === this.generation) this.watermarks.finish(f.work.record.topic, f.work.record.partition, f.work.record.offset);
        }
        this.scheduleCommit();
        if (this.hasRoom()) this.roomWaiters.splice(0).forEach((f) => f());
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Room to take more: records waiting for their lookup or their turn, plus finished ones whose
   * outcomes are not published yet (a produce that hangs stops the fetching, not only the memory).
   */
  private hasRoom(): boolean {
    return this.dispatcher.pending + this.lookingUp + this.finished.length + this.publishing <= MAX_PENDING;
  }

  /**
   * Commits at most once per commitIntervalMs: every commit is a broker write (a record on the
   * offsets topic), so under load one commit covers many published batches. Records finished
   * since the last commit are read again after a crash or rebalance; the ledger knows they were
   * delivered, so they are not delivered again.
   */
  private scheduleCommit(): void {
    if (this.commitTimer || this.abort.signal.aborted) return;
    const wait = Math.max(0, this.lastCommitAt + (this.deps.commitIntervalMs ?? 0) - Date.now());
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      void this.commitNow();
    }, wait);
  }

  /** One commit at a time. */
  private commitNow(): Promise<void> {
    if (this.committing) {
      // Records finished while this commit runs are committed by one more right after it,
      // not left until the next outcome happens to schedule one.
      this.commitAgain = true;
      return this.committing;
    }
    this.committing = this.commitOnce().finally(() => {
      this.committing = null;
      if (this.commitAgain) {
        this.commitAgain = false;
        this.scheduleCommit();
      }
    });
    return this.committing;
  }

  /** Marks in the ledger what was announced, then commits the offsets that lets go. */
  private async commitOnce(): Promise<void> {
    this.lastCommitAt = Date.now();
    const generation = this.generation;
    const announced = this.unmarkedAnnounced;
    this.unmarkedAnnounced = [];
    try {
      if (announced.length > 0) await this.deps.ledger.markAnnouncedMany(announced);
    } catch (err) {
      // PostgreSQL unavailable: nothing is committed until the marks are written (a crash
      // meanwhile re-reads and announces again; nothing is delivered again).
      this.unmarkedAnnounced = [...announced, ...this.unmarkedAnnounced];
      this.deps.log.warn({ err: (err as Error).message }, 'delivery ledger not updated; offsets not committed yet');
      this.scheduleCommit();
      return;
    }
    for (const id of announced) this.inFlightDelivered.delete(id);
    // Records that finished during the write may be committed before their own marks are
    // written (next time): harmless, a committed record is not read again; the mark only keeps a
    // re-read record from being announced twice.
    const offsets = this.watermarks.advanced();
    if (offsets.length === 0 || !this.consumer || generation !== this.generation) return;
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (err) {
      // A rebalance in between: the new owner reads from the previous commit (at-least-once).
      this.deps.log.debug({ err: (err as Error).message }, 'offset commit skipped');
    }
  }

  /** Handles one record into `outcome`; true when the message was delivered or deposited. */
  private async process(record: ConsumedRecord, outcome: RecordOutcome, hint?: Work['ledgerHint'], firstTakenAt?: number): Promise<boolean> {
    let envelope: Envelope;
    try {
      envelope = this.checkRecord(record);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      this.reject(record, err.message, outcome);
      if (err instanceof Undecryptable) {
        // Without it the message kept its last status (accepted, or failed and retrying) for good,
        // while its record waited in the dead letters for the key to be restored and a replay.
        const attempt = this.attemptOf(record);
        const dead = messageEvent('dead_lettered', err.envelope, this.actor, this.outcomeDetail(err.envelope, attempt, { attempts: attempt - 1, reason: `rejected: ${err.message}`, retryable: false }));
        outcome.records.push(...eventRecords(this.deps.topics, dead));
      }
      return false;
    }
    const seen = this.inFlightDelivered.has(envelope.id) ? 'announced' : await this.ledgerState(envelope.id, hint);
    if (seen !== 'no') {
      this.stats.duplicates++;
      // Announced as what happened: a deposit (the ledger says so) as `deposited`, for its
      // `delivered` comes from the system's acknowledgement.
      if (seen !== 'announced') this.announceDelivered(seen === 'deposited-unannounced' ? 'deposited' : 'delivered', envelope, { connector: this.name, attempt: this.attemptOf(record), recovered: true }, outcome);
      return true;
    }
    if (this.abort.signal.aborted) throw new Error('runner stopping');

    const attempt = this.attemptOf(record);
    const attemptedAt = Date.now();
    const destination = this.destinationOf(envelope);
    try {
      const result = await this.attempts.run((running) => this.loaded.definition.handle(envelope, this.context(envelope, attempt, running)));
      this.failureStreak = 0;
      this.reachedOrFailed(destination);
      // That system takes messages again: its error is history (the message timelines and dead
      // letters keep it), and a healthy connector showing it reads as a live fault.
      if (this.lastError?.startsWith(`${destination}: `)) this.lastError = null;
      // In the recipient's inbox (deposited): `delivered` is published when the system acknowledges it.
      const deposited = result?.outcome === 'deposited';
      outcome.delivered.push(deposited ? { id: envelope.id, deposited } : { id: envelope.id });
      outcome.records.push(...this.outcomeEvents(deposited ? 'deposited' : 'delivered', envelope, attempt, result?.detail));
      outcome.announced.push(envelope.id);
      if (!deposited) {
        const times = firstTakenAt === undefined ? undefined : { producedAt: record.timestamp, takenAt: firstTakenAt, attemptedAt, answeredAt: Date.now() };
        this.deps.observeDelivered?.(envelope, times);
      }
      return true;
    } catch (thrown) {
      if (this.abort.signal.aborted) throw thrown;
      const err = this.wordedForTheBus(handlerError(thrown), envelope.id);
      // Every event, the dead letter and the status carry the reason: a 2 MB message would make
      // records Kafka refuses, and the produce of every outcome batched with them would fail for good.
      if (err.message.length > MAX_REASON_CHARS) err.message = cutReason(err.message);
      if (!waitsForEarlier(err)) {
        this.failureStreak++;
        this.reachedOrFailed(destination, err.message);
      }
      const outcomeOf = await this.unlessNothingLeftToWaitFor(record, envelope, err);
      this.failed(record, envelope, attempt, attemptedAt, outcomeOf as Error & { retryAfterMs?: number }, outcome, destination);
      return false;
    }
  }

  /**
   * What handle() threw, as its reason may go on the bus (events, the audit chain, the dead
   * letter, the status): an error nobody worded (the engine's SyntaxError of a JSON.parse, which
   * quotes the text it choked on) gets a fixed reason naming its class (unplanned-error.ts); this
   * log names the frames it was thrown from under the message's id, never its text.
   */
  private wordedForTheBus(err: Error & { retryAfterMs?: number }, messageId: string): Error & { retryAfterMs?: number } {
    const { error, withheld } = forTheBus(err, 'handle()', messageId);
    if (withheld !== null) this.deps.log.warn({ messageId, errorClass: withheld, at: thrownAt(err) }, 'connector error withheld from the bus (it may quote message data)');
    return error;
  }

  /**
   * A message that waits for an earlier one of its key (WaitForEarlierMessage) has nothing left
   * to wait for once its grace has passed and no message of the key accepted before it is still
   * on the bus (earlier-messages.ts): it is dead-lettered with the reason instead of waiting out
   * its retry budget. Any doubt (within the grace, the lookup failing) keeps it waiting.
   */
  private async unlessNothingLeftToWaitFor(record: ConsumedRecord, envelope: Envelope, err: unknown): Promise<unknown> {
    const earlier = this.deps.earlierMessages;
    if (!earlier || !waitsForEarlier(err)) return err;
    const waitedMs = Date.now() - this.budgetStart(record, envelope);
    if (waitedMs < earlier.graceMs) return err;
    try {
      if ((await earlier.openBefore(envelope)) !== null) return err;
    } catch (lookupErr) {
      this.deps.log.warn({ err: (lookupErr as Error)?.message ?? String(lookupErr), messageId: envelope.id }, 'could not tell whether an earlier message is still on the bus; the message keeps waiting');
      return err;
    }
    return new PermanentError(`${(err as Error)?.message ?? String(err)}; nothing left to wait for: no message from ${envelope.from.member} to ${envelope.to.member} with correlation id ${envelope.correlationId} accepted before this one is still on the bus (checked ${formatDuration(waitedMs)} after its acceptance)`);
  }

  /**
   * Whether the ledger holds the message: the answer read with its batch while fresh and for the
   * same id (the header normally matches the envelope), else asked now.
   */
  private async ledgerState(id: string, hint?: Work['ledgerHint']): Promise<LedgerState | 'no'> {
    if (hint && hint.id === id && Date.now() - hint.at < LEDGER_HINT_FRESH_MS) return hint.state;
    try {
      return await this.lookups.state(id);
    } catch (err) {
      throw new LedgerUnavailable((err as Error).message);
    }
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
    // The payload travels sealed for the runner (sealed-payload.ts); opened only now, after the
    // signature over the sealed record checked out, and only in memory on its way to the connector.
    let digestMatches: boolean;
    try {
      ({ envelope, digestMatches } = this.deps.payloads.openEnvelopeChecked(envelope));
    } catch (err) {
      throw new Undecryptable(`payload cannot be decrypted: ${(err as Error).message}`, envelope);
    }
    if (!digestMatches) throw new Rejection('payload digest mismatch');
    const topicService = this.deps.topics.serviceOf(record.topic);
    if (topicService !== null && topicService !== envelope.to.service) {
      throw new Rejection(`envelope is addressed to service ${envelope.to.service} but was found on ${record.topic}`);
    }
    const deliveredHere = findCaughtUp(this.deps.registry, this.deps.latestRegistry, (registry) => registry.servicesOf(envelope.to.member, envelope.to.service)[0]?.connector === this.name || undefined);
    if (!deliveredHere) {
      throw new Rejection(`service ${envelope.to.service} of ${envelope.to.member} is not delivered by ${this.name}`);
    }
    return envelope;
  }

  /** Tells the destination's circuit; when that closed it, the retries parked for it go now, not on their backoff. */
  private reachedOrFailed(destination: string, error?: string): void {
    const closed = error === undefined ? this.circuits.reached(destination) : this.circuits.failed(destination, error);
    if (!closed) return;
    const released = this.dispatcher.releaseGroup(destination);
    this.deps.log.info({ destination, released }, 'destination reachable again; its parked retries released');
  }

  /** The receiving system a message goes to: what a circuit (and a parked group) is per. */
  private destinationOf(envelope: Envelope): string {
    const service = this.deps.registry().servicesOf(envelope.to.member, envelope.to.service)[0];
    return service ? `${service.provider}/${service.system}` : `${envelope.to.member}/${envelope.to.service}`;
  }

  private attemptOf(record: ConsumedRecord): number {
    return boundedAttempt(headerValue(record.headers, ATTEMPT_HEADER), this.deps.policy.maxAttempts);
  }

  private context(envelope: Envelope, attempt: number, running: RunningAttempt): ConnectorContext<Record<string, unknown>> {
    // One registry for the whole context, even when it is replaced meanwhile (live-registry.ts).
    const registry = this.deps.registry();
    const service = registry.servicesOf(envelope.to.member, envelope.to.service)[0];
    const deps = this.deps;
    let log: Logger | undefined;
    // An abandoned attempt (past the attempt time limit, or the runner stopping) may still be
    // running: its calls to the bus and to the target are refused (RunningAttempt).
    const stillLive = (call: string) => running.refuseIfAbandoned(call);
    return {
      connector: this.name,
      config: this.loaded.config,
      // Made only when the connector logs: most messages are handled without a word.
      get log() {
        return (log ??= deps.log.child({ messageId: envelope.id }));
      },
      service: {
        code: service.code,
        provider: service.provider,
        system: service.system,
        endpoint: registry.endpointOf(service),
        ...(registry.system(service.system)?.documentDelivery ? { documentDelivery: registry.system(service.system)!.documentDelivery } : {}),
      },
      attempt,
      // Aborted when the runner stops or the attempt runs past its time limit; made only when read.
      get signal() {
        return running.signal();
      },
      deliver: async (req) => {
        stillLive('deliver');
        // The attempt (which the runner's stop ends too): a delivery in flight when the attempt is
        // abandoned is cut off.
        return deliverSigned(req, this.deps.deliveryKey(), this.deps.deliveryTimeoutMs, running);
      },
      emitStatus: async (detail) => {
        checkStatusDetail(detail);
        stillLive('emitStatus');
        await this.deps.producer.send(eventRecords(this.deps.topics, messageEvent('status', envelope, this.actor, detail)));
      },
      metrics: this.metrics,
      secrets: this.secrets,
      state: this.deps.state,
      depositToInbox: async (deposit) => {
        stillLive('depositToInbox');
        if (deposit.id !== envelope.id || deposit.to.member !== envelope.to.member || deposit.to.service !== envelope.to.service) {
          throw new PermanentError('a connector may deposit only the message it is handling, to its own recipient');
        }
        await this.deps.producer.send([{
          topic: this.deps.topics.inbox,
          key: deposit.to.member,
          // Sealed for the gateway, which opens it when the system pulls it.
          value: this.deps.payloads.sealedEnvelope(deposit),
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
        stillLive('reply');
        const normalized = normalizeNfc(payload);
        const validate = this.deps.replyValidator?.(envelope.type);
        if (validate) checkReply(envelope.type, validate, normalized);
        const { record, value } = replyRecord(this.deps.topics, envelope, this.name, normalized, (p, json) => this.deps.payloads.seal(p, json));
        await this.deps.producer.send([record, ...eventRecords(this.deps.topics, messageEvent('status', envelope, this.actor, { reply: 'sent', replyDigest: value.payloadDigest }))]);
      },
    };
  }

  /**
   * What every outcome event says besides the connector's own detail: which connector handled
   * the message (there is no separate 'routed' event) and the attempt; the first attempt also
   * carries the acceptance time, so read models that never see the message record (the console)
   * know when it was accepted.
   */
  private outcomeDetail(envelope: Envelope, attempt: number, detail?: Record<string, unknown>): Record<string, unknown> {
    // The runner's fields last: a connector's detail naming them must not rewrite the facts.
    return { ...(detail ?? {}), connector: this.name, attempt, ...(attempt === 1 ? { acceptedAt: envelope.time } : {}) };
  }

  /**
   * The delivered (or deposited) event with the connector's detail, or, when that detail cannot
   * go on the events topic (no JSON: a BigInt, a cycle; or over MAX_OUTCOME_EVENT_CHARS), without
   * it and saying why. Before, such a detail failed the delivered message as if handle() had
   * thrown, or made the produce of every outcome batched with it fail for good.
   */
  private outcomeEvents(event: 'delivered' | 'deposited', envelope: Envelope, attempt: number, detail?: Record<string, unknown>): OutgoingRecord[] {
    let omitted: string;
    try {
      const records = eventRecords(this.deps.topics, this.handedOver(event, envelope, this.outcomeDetail(envelope, attempt, detail)));
      if (records[0].value.length <= MAX_OUTCOME_EVENT_CHARS) return records;
      omitted = `${records[0].value.length} characters as JSON, over the ${MAX_OUTCOME_EVENT_CHARS} an event may hold`;
    } catch (err) {
      omitted = `not JSON: ${(err as Error)?.message ?? String(err)}`;
    }
    omitted = `the connector's detail was left out: ${omitted}`;
    this.lastError = omitted;
    this.deps.log.warn({ messageId: envelope.id, reason: omitted }, 'outcome detail left out');
    return eventRecords(this.deps.topics, this.handedOver(event, envelope, this.outcomeDetail(envelope, attempt, { detailOmitted: omitted })));
  }

  /** The message handed over (delivered or deposited): one id per message and connector, however often it is announced. */
  private handedOver(event: 'delivered' | 'deposited', envelope: Envelope, detail: Record<string, unknown>): BusEvent {
    return { ...messageEvent(event, envelope, this.actor, detail), id: handedOverEventId(envelope.id, this.name) };
  }

  /** The attempt's one outcome event. */
  private announceDelivered(event: 'delivered' | 'deposited', envelope: Envelope, detail: Record<string, unknown>, outcome: RecordOutcome): void {
    outcome.records.push(...eventRecords(this.deps.topics, this.handedOver(event, envelope, detail)));
    outcome.announced.push(envelope.id);
  }

  private failed(record: ConsumedRecord, envelope: Envelope, attempt: number, attemptedAt: number, err: Error & { retryAfterMs?: number }, outcome: RecordOutcome, destination: string): void {
    const reason = err.message || String(err);
    // Named by its system (member/client): one connector delivers to many, and the operator
    // needs to know whom to call.
    this.lastError = `${destination}: ${reason}`;
    const retryable = isRetryable(err);
    const budgetFrom = this.budgetStart(record, envelope);
    const budget = budgetLeft(this.deps.policy, attempt, budgetFrom, Date.now());
    if (!retryable || budget.spent) {
      const why = retryable ? gaveUpReason(attempt, Date.now() - budgetFrom, reason) : reason;
      // One event for the last attempt: it failed and the message is dead-lettered.
      const dead = messageEvent('dead_lettered', envelope, this.actor, this.outcomeDetail(envelope, attempt, { attempts: attempt, reason: why, attemptError: reason, retryable }));
      outcome.records.push(
        ...eventRecords(this.deps.topics, dead),
        this.deadLetterRecord(record, why, attempt),
      );
      this.stats.deadLettered++;
      return;
    }
    // Attempts that only waited for an earlier message say nothing about the destination's
    // health: the backoff grows with the message's own failures (retry-policy.ts says how fast).
    const waited = waitsForEarlier(err);
    const waits = (Number(headerValue(record.headers, WAITS_HEADER) ?? 0) || 0) + (waited ? 1 : 0);
    const step = waited ? attempt : backoffStep(attempt - waits, this.failureStreak);
    const backoff = retryDelayMs(this.deps.policy, step, err.retryAfterMs);
    const now = Date.now();
    // A request somebody may still be waiting on retries after a short pause instead (a replayed
    // one has nobody waiting); retry-policy.ts says when it takes the backoff after all.
    const awaited = this.requestTypes.has(envelope.type) && !waited && !headerValue(record.headers, RETRY_SINCE_HEADER);
    const wanted = awaited
      ? requestRetryDelayMs(backoff, { acceptedAt: Date.parse(envelope.time), now, waitWindowMs: MAX_WAIT_SECONDS * 1000, failureStreak: this.failureStreak, retryAfterMs: err.retryAfterMs })
      : backoff;
    // The last retry goes when the budget ends, not after it: a message is never kept past its budget.
    const delay = Math.max(0, Math.min(wanted, budget.remainingMs));
    const nextAttemptAt = new Date(now + delay).toISOString();
    const failedEvent = messageEvent('delivery_failed', envelope, this.actor, this.outcomeDetail(envelope, attempt, { reason, retryable, nextAttemptAt, ...(waited ? { waitsForEarlier: true } : {}) }));
    outcome.records.push(
      ...eventRecords(this.deps.topics, failedEvent),
      {
        topic: this.deps.topics.retry(this.name),
        key: record.key ?? undefined,
        value: record.value!,
        preserveSignature: signatureHeaders(record.headers),
        headers: {
          'lgsp-id': envelope.id,
          [ATTEMPT_HEADER]: String(attempt + 1),
          [NOT_BEFORE_HEADER]: String(now + delay),
          [ORIGIN_TOPIC_HEADER]: headerValue(record.headers, ORIGIN_TOPIC_HEADER) ?? record.topic,
          [DESTINATION_HEADER]: destination,
          ...(headerValue(record.headers, RETRY_SINCE_HEADER) ? { [RETRY_SINCE_HEADER]: headerValue(record.headers, RETRY_SINCE_HEADER)! } : {}),
          ...(waits > 0 ? { [WAITS_HEADER]: String(waits) } : {}),
          ...(waited ? { [WAITED_AT_HEADER]: String(attemptedAt) } : {}),
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
  private reject(record: ConsumedRecord, reason: string, outcome: RecordOutcome): void {
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

/** The longest outcome event (characters of JSON) a connector's detail may make: far under Kafka's 1 MiB record limit. */
const MAX_OUTCOME_EVENT_CHARS = 64 * 1024;

/** The longest failure reason kept (a connector's error message may be any length). */
const MAX_REASON_CHARS = 4000;

/** A stop waits for deliveries already sent as long as the delivery timeout, plus this for the handler to return its outcome. */
const STOP_OUTCOME_MARGIN_MS = 1000;

/** Waits for `work`, but not longer than `ms` (a handler ignoring its abort signal must not hang a stop). */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** A reason cut to MAX_REASON_CHARS (never inside a surrogate pair), saying how long it was. */
function cutReason(reason: string): string {
  return `${sliceWhole(reason, MAX_REASON_CHARS - 40)}… (cut from ${reason.length} characters)`;
}
