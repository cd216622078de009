// Feeds the console's dead-letter store from Kafka (lgsp.dlq.<connector>). Dead letters are kept
// whatever their signature, since unsigned and forged records are exactly what the runner
// dead-letters, with the verification result shown. The message index is not consumed here: the
// ledger (services/ledger) writes it from lgsp.events with the gateways' read models, and the
// console follows it (index-follower.ts).
//
// A partition's batch is stored in one transaction with where it ended (read_model_offsets,
// read-model-offsets.ts), so a database restored from an older dump says where its dead-letter
// list stopped and the console reads on from there (restore-catch-up.ts) instead of from its
// group's offset past the dump. A dead letter read again is skipped by its topic, partition and offset.
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../platform/logger.js';
import { PROOF_HEADER, SIGNATURE_HEADER, type RecordVerifier } from '../platform/record-signing.js';
import { headerValue, startSignedConsumer, type ConsumedRecord } from '../platform/signed-consumer.js';
import type { Topics } from '../platform/topics.js';
import { ATTEMPT_HEADER, DLQ_REASON_HEADER, ORIGIN_TOPIC_HEADER } from '../platform/bus-headers.js';
import type { ConsoleStore } from './console-store.js';
import type { DeadLetterInput } from './dead-letter-store.js';
import type { FlowMonitor } from './flow-monitor.js';
import type { Database } from '../platform/database.js';
import { batchOffsets, saveReadModelOffsets } from '../platform/read-model-offsets.js';
import type { CatchUp } from '../platform/restore-catch-up.js';

export interface IngestStats {
  deadLetters: number;
}

export interface BusIngest {
  consumer: Consumer;
  stats: IngestStats;
}

/**
 * The failure time a dead letter claims. The header is not signed, and a malformed one must not
 * throw here: the consumer would fail the batch and crash-loop on that record forever.
 */
function failedAtOf(header: string | undefined): string {
  const at = header === undefined ? NaN : Date.parse(header);
  return new Date(Number.isNaN(at) ? Date.now() : at).toISOString();
}

export function deadLetterFromRecord(record: ConsumedRecord, connector: string): DeadLetterInput {
  let envelope: DeadLetterInput['envelope'] = null;
  try {
    const parsed = JSON.parse(record.value?.toString('utf8') ?? '');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) envelope = parsed;
  } catch {
    /* not JSON: shown as such, not replayable */
  }
  const sig = headerValue(record.headers, SIGNATURE_HEADER);
  const proof = headerValue(record.headers, PROOF_HEADER);
  const reason = headerValue(record.headers, DLQ_REASON_HEADER) ?? 'no reason recorded';
  // The id header is only trusted when the record verifies; otherwise fall back to nothing.
  const claimedId = headerValue(record.headers, 'lgsp-id') ?? (typeof (envelope as { id?: unknown } | null)?.id === 'string' ? (envelope as { id: string }).id : null);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    connector,
    messageId: record.verification.ok ? claimedId : null,
    reason,
    attempts: Number(headerValue(record.headers, ATTEMPT_HEADER) ?? 0) || 0,
    originTopic: headerValue(record.headers, ORIGIN_TOPIC_HEADER) ?? null,
    failedAt: failedAtOf(headerValue(record.headers, 'lgsp-failed-at')),
    key: record.key,
    value: record.value,
    signature: sig && proof ? { [SIGNATURE_HEADER]: sig, [PROOF_HEADER]: proof } : null,
    verified: record.verification.ok,
    verifyReason: record.verification.ok ? null : record.verification.reason,
    envelope: record.verification.ok ? envelope : null,
  };
}

export async function startBusIngest(opts: {
  kafka: Kafka;
  topics: Topics;
  connectors: string[];
  groupId: string;
  verifier: RecordVerifier;
  store: ConsoleStore;
  /** The console's database (the store's): each batch is one transaction with its offset. */
  db: Database;
  monitor: FlowMonitor;
  log: Logger;
  /** Called for each partition read again after a restore (metrics). */
  onCatchUp?(catchUp: CatchUp): void;
}): Promise<BusIngest> {
  const stats: IngestStats = { deadLetters: 0 };
  const dlqPrefix = opts.topics.deadLetter('');
  const consumer = await startSignedConsumer({
    kafka: opts.kafka,
    groupId: opts.groupId,
    topics: opts.connectors.map((c) => opts.topics.deadLetter(c)),
    verifier: opts.verifier,
    log: opts.log,
    fromBeginning: true,
    storedOffsets: { db: opts.db, onCatchUp: opts.onCatchUp },
    handleBatch: async (records) => {
      if (records.length === 0) return;
      const topic = records[0].topic;
      const connector = topic.slice(dlqPrefix.length);
      const added = await opts.db.transaction(async (tx) => {
        const fresh: DeadLetterInput[] = [];
        for (const r of records) {
          const dl = deadLetterFromRecord(r, connector);
          if (await opts.store.deadLetters.add(dl, tx)) fresh.push(dl);
        }
        await saveReadModelOffsets(tx, opts.groupId, batchOffsets(records));
        return fresh;
      });
      // Counted once committed (a batch rolled back is consumed again).
      for (const dl of added) {
        stats.deadLetters++;
        // Messages that fail verification have no trustworthy timeline: count them here.
        if (!dl.messageId) opts.monitor.recordRejected(dl.failedAt);
      }
    },
  });
  return { consumer, stats };
}
