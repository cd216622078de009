// A consumer-group loop over signed bus records. Each fetched batch is verified (one ECDSA
// check per produced batch thanks to the shared batch signature) and handed over as a whole;
// offsets are committed only after the handler has finished, so a crash re-delivers rather
// than loses (at-least-once; consumers dedupe by id).
import { retryTopicCreation } from './kafka-transport.js';
import { setFetchPacing, setFetchWindow, type FetchPacing, type FetchWindow } from './kafkajs-fetch-window.js';
import type { Consumer, IHeaders, Kafka } from 'kafkajs';
import type { RecordVerifier, VerifyResult } from './record-signing.js';
import type { Logger } from './logger.js';
import { watchGroupMembership } from './group-membership-watch.js';
import { catchUpAfterRestore, type StoredOffsets } from './restore-catch-up.js';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
  verification: VerifyResult;
  /** The record's Kafka timestamp (ms; the producer's clock when it built the batch), when known. */
  timestamp?: number;
}

export interface BatchControl {
  heartbeat(): Promise<void>;
  resolveOffset(offset: string): void;
  isRunning(): boolean;
  /**
   * The handler did not take the records from `offset` on: they are not resolved, so the next
   * fetch of the partition (e.g. after the handler paused it and resumes it) starts there.
   */
  handBack(offset: string): void;
}

export interface SignedConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  verifier: RecordVerifier;
  fromBeginning?: boolean;
  partitionsConsumedConcurrently?: number;
  /**
   * false: resolved offsets only move the fetch position and the caller commits itself
   * (consumer.commitOffsets), for handlers that finish records after handleBatch returned.
   */
  autoCommit?: boolean;
  /**
   * With autoCommit: commit the handled offsets at most this often (ms) instead of after every
   * batch (kafkajs commits after each partition's batch: a broker write each). A crash or a
   * rebalance re-reads what was handled since the last commit, so only for handlers that
   * tolerate a re-read (they skip what they already applied).
   */
  commitIntervalMs?: number;
  /**
   * Fetch shaping: consumers that are not on a latency-critical path ask the broker to wait
   * for more data per fetch, which means fewer, larger batches (less CPU on both sides).
   */
  minBytes?: number;
  maxWaitTimeInMs?: number;
  /**
   * While records keep coming, wait up to this long for a batch before the next fetch returns
   * (kafkajs-fetch-window.ts); after an empty fetch, minBytes and maxWaitTimeInMs apply again.
   */
  fetchWindow?: FetchWindow;
  /** Spaces out the fetches while the records are not needed (kafkajs-fetch-window.ts); wakeFetches(groupId) ends a wait. */
  fetchPacing?: FetchPacing;
  /**
   * How long the group waits for a member that stopped heartbeating (default 30 s). A consumer
   * whose standby must take over quickly after a crash (the audit leader) asks for less.
   */
  sessionTimeoutMs?: number;
  log: Logger;
  /**
   * A read model that stores its applied offsets with its rows (read-model-offsets.ts): at each
   * assignment a partition the database is behind on (restored from an older dump) is read again
   * from the database's offset, before any batch of the assignment is handled (restore-catch-up.ts).
   * Never for a consumer whose records must not be handled twice (the runners' deliveries).
   */
  storedOffsets?: StoredOffsets;
  /**
   * Optional cheap pre-filter on topic and headers: records it refuses are skipped before
   * signature verification (e.g. a consumer that only cares about one event kind).
   */
  accept?(topic: string, headers: IHeaders): boolean;
  /**
   * Handles a batch from one partition, in offset order. A handler that works record by record
   * may call resolveOffset as each outcome is recorded; the whole batch is resolved after it.
   */
  handleBatch(records: ConsumedRecord[], control: BatchControl): Promise<void>;
}

export async function startSignedConsumer(opts: SignedConsumerOptions): Promise<Consumer> {
  let stopped = false;
  const periodicCommit = (opts.autoCommit ?? true) && (opts.commitIntervalMs ?? 0) > 0;
  /** Periodic commit: the next offset to read of each partition handled since the last commit. */
  const handled = new Map<string, { topic: string; partition: number; offset: string }>();
  let commitTimer: NodeJS.Timeout | null = null;
  const fetchShape = { minBytes: opts.minBytes ?? 1, maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 100 };
  setFetchWindow(opts.groupId, opts.fetchWindow ?? null, fetchShape);
  setFetchPacing(opts.groupId, opts.fetchPacing ?? null);
  const sessionTimeoutMs = opts.sessionTimeoutMs ?? 30_000;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeoutMs / 5)),
    ...fetchShape,
    // A broker outage must not end consumption for good: kafkajs restarts the consumer after
    // any crash (it waits out the retry backoff first), and the group resumes from committed
    // offsets, so nothing is skipped.
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000, restartOnFailure: async () => !stopped },
  });
  // kafkajs gives up for good on some errors (e.g. no group coordinator yet on a broker still
  // creating __consumer_offsets): then start it again ourselves, a second later, until stopped.
  consumer.on(consumer.events.CRASH, (e) => {
    opts.log.warn({ groupId: opts.groupId, err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed; restarting');
    if (!e.payload.restart) setTimeout(() => void restart(), 1000).unref();
  });
  const restart = async (): Promise<void> => {
    if (stopped) return;
    try {
      await begin();
    } catch (err) {
      opts.log.warn({ groupId: opts.groupId, err: (err as Error).message }, 'consumer restart failed; trying again');
      setTimeout(() => void restart(), 2000).unref();
    }
  };
  // A consumer that goes on fetching after its group dropped it (kafkajs lost its member id in a
  // failed rejoin: group-membership-watch.ts) reads partitions another member now owns, and
  // what it handles is handled twice. Stopped and started again, it rejoins.
  const stopWatch = watchGroupMembership(consumer, {
    sessionTimeoutMs,
    onLost: (silentForMs) => {
      if (stopped) return;
      opts.log.warn({ groupId: opts.groupId, silentForMs }, 'consumer still fetching but out of its group (no heartbeat for a whole session): restarting it to rejoin');
      void consumer
        .stop()
        .catch((err: Error) => opts.log.warn({ groupId: opts.groupId, err: err.message }, 'consumer did not stop cleanly before rejoining'))
        .then(() => restart());
    },
  });
  // Once we disconnect, a restart still in flight (the consumer was crashing when we stopped)
  // must not bring it back: it would retry forever against a broker we no longer use.
  const commitHandled = async (): Promise<void> => {
    if (commitTimer) clearTimeout(commitTimer);
    commitTimer = null;
    if (handled.size === 0) return;
    const offsets = [...handled.values()];
    handled.clear();
    try {
      await consumer.commitOffsets(offsets);
    } catch (err) {
      // A rebalance in between: whoever reads the partition next starts at the previous commit.
      opts.log.debug({ groupId: opts.groupId, err: (err as Error).message }, 'offset commit skipped');
    }
  };
  // After a (re)join the partitions are read from their committed offsets: what was handled and
  // not committed is read again (possibly by another member); committing it now could move
  // another member's partition.
  if (periodicCommit) consumer.on(consumer.events.GROUP_JOIN, () => handled.clear());
  // The restore check of the current assignment: started at the join, awaited by every batch
  // (kafkajs fetches from the committed offsets meanwhile; a batch of a partition sought back is
  // stale and dropped). One that failed (PostgreSQL down) is tried again by the next batch, which
  // fails with it rather than apply records past a restore's gap.
  let assigned: Record<string, number[]> = {};
  let assignmentChecked: Promise<unknown> | null = null;
  const storedOffsets = opts.storedOffsets;
  const checkAssignment = (): Promise<unknown> =>
    storedOffsets
      ? (assignmentChecked ??= catchUpAfterRestore({
          kafka: opts.kafka,
          groupId: opts.groupId,
          topics: opts.topics,
          assigned,
          stored: storedOffsets,
          seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
          log: opts.log,
        }).catch((err: Error) => {
          assignmentChecked = null;
          opts.log.warn({ groupId: opts.groupId, err: err.message }, 'could not compare the database\'s offsets with the group\'s; trying again before the next batch');
          throw err;
        }))
      : Promise.resolve();
  if (storedOffsets) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned = e.payload.memberAssignment;
      assignmentChecked = null;
      void checkAssignment().catch(() => undefined);
    });
  }
  const disconnect = consumer.disconnect.bind(consumer);
  consumer.disconnect = async () => {
    stopped = true;
    stopWatch();
    // A fetch held by pacing goes now, so the stop does not wait out its interval.
    setFetchPacing(opts.groupId, null);
    // What was handled since the last periodic commit is not read again after a clean stop.
    if (periodicCommit) await commitHandled();
    await disconnect();
  };
  const begin = async (): Promise<void> => {
    await consumer.connect();
    // Topics created a moment ago by this or another process may not be in every broker's
    // metadata yet (UNKNOWN_TOPIC_OR_PARTITION, retriable): wait for them instead of failing.
    await retryTopicCreation(() => consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true }));
    await consumer.run({
      autoCommit: periodicCommit ? false : (opts.autoCommit ?? true),
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (storedOffsets) await checkAssignment();
        if (!isRunning() || isStale()) return;
        const records: ConsumedRecord[] = [];
        for (const m of batch.messages) {
          if (opts.accept && !opts.accept(batch.topic, m.headers ?? {})) continue;
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ? m.key.toString() : null,
            value: m.value,
            headers: m.headers ?? {},
            verification: opts.verifier.check(m.value, m.headers as Record<string, Buffer | string | undefined>, batch.topic),
            timestamp: Number(m.timestamp),
          });
        }
        let handedBack: bigint | null = null;
        await opts.handleBatch(records, {
          heartbeat,
          resolveOffset,
          isRunning: () => isRunning() && !isStale(),
          handBack: (offset) => {
            handedBack = BigInt(offset);
          },
        });
        // A handler that stopped early (shutdown, or the partition was reassigned) has resolved
        // what it finished; resolving the rest would commit records nobody handled.
        if (!isRunning() || isStale()) return;
        let lastResolved: string | null = null;
        for (const m of batch.messages) {
          // Handed back (the handler paused this partition): read again from Kafka later.
          if (handedBack !== null && BigInt(m.offset) >= handedBack) break;
          resolveOffset(m.offset);
          lastResolved = m.offset;
        }
        if (periodicCommit && lastResolved !== null) {
          const next = String(BigInt(lastResolved) + 1n);
          handled.set(`${batch.topic}\u0000${batch.partition}`, { topic: batch.topic, partition: batch.partition, offset: next });
          commitTimer ??= setTimeout(() => void commitHandled(), opts.commitIntervalMs);
        }
        await heartbeat();
      },
    });
  };
  await begin();
  return consumer;
}

export function headerValue(headers: IHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}
