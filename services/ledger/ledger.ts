// The ledger: the one consumer of lgsp.events (and lgsp.inbox) that builds the shared read
// models in PostgreSQL — the message index (console_messages, console_message_events: status
// and timeline of every message, which every gateway serves and the operator console follows
// instead of reading the topic again) and the pull inboxes (deposits, and their
// acknowledgement by a `delivered` event with mode pull). Gateways consume nothing: they write
// the 'accepted' step themselves when Kafka takes a message and read the rest. The runner hosts
// the ledger (it already holds Kafka and PostgreSQL); all runners share one consumer group, so
// each record is applied once, and each consumed batch is one transaction. Kafka stays the
// system of record: emptied tables are rebuilt by reading the topics from the beginning.
//
// kafkajs hands a fetch over one partition at a time: applied one by one, a fetch across twelve
// partitions was twelve transactions of five statements. The partitions of a fetch are handled
// concurrently and what they bring is applied together, one transaction in flight and everything
// arriving meanwhile in the next (BatchedWriter); a partition's batches still apply in order,
// and the tables do not depend on the order across partitions (message-index.ts folds events
// in any order).
//
// Records that fail signature verification are ignored: only the platform writes timelines and
// inboxes.
//
// An inbox record whose recipient (the envelope's to.member and to.service, inside the signed
// value) the registry no longer knows — the service was removed, or moved to another member,
// while the message was in flight — has no system to wait for: nobody could ever pull it. It is
// not dropped silently: the ledger publishes a signed `dead_lettered` event for the message
// (actor `ledger`, the reason naming the member and service), so its status and timeline say
// what happened and the console lists it among the dead-lettered messages. The event's id is
// derived from the record's place on the topic, so reading the topic again does not add it twice.
//
// Each transaction also stores the next offset of every partition it applied (read_model_offsets,
// read-model-offsets.ts), batches that brought nothing to apply (unverified records) included, so
// a database restored from an older dump says where it stopped and the ledger reads on from there
// (restore-catch-up.ts) instead of from the group's offset past the dump. Applying again is
// harmless: events are keyed by their id, deposits by the message id.
import type { Consumer, Kafka } from 'kafkajs';
import type { BusEvent } from '../platform/bus-events.js';
import type { Envelope } from '../platform/envelope.js';
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';
import type { RecordVerifier } from '../platform/record-signing.js';
import type { Registry } from '../platform/registry.js';
import { findCaughtUp } from '../platform/live-registry.js';
import { headerValue, startSignedConsumer } from '../platform/signed-consumer.js';
import type { Topics } from '../platform/topics.js';
import { DEPOSITED_AT_HEADER } from '../platform/bus-headers.js';
import { InboxStore, type Deposit } from '../document-exchange/inbox-store.js';
import { applyEventsIn, withAcceptances } from '../console/message-index.js';
import { BatchedWriter } from '../platform/batched-writer.js';
import { eventRecords, messageEvent } from '../platform/bus-events.js';
import type { OutgoingRecord } from '../platform/kafka-transport.js';
import { batchOffsets, mergeOffsets, saveReadModelOffsets, type PartitionOffset } from '../platform/read-model-offsets.js';
import type { CatchUp } from '../platform/restore-catch-up.js';

export interface LedgerOptions {
  kafka: Kafka;
  topics: Topics;
  verifier: RecordVerifier;
  registry: () => Registry;
  /** The registry after looking at its file now (LiveRegistry.latest), for a recipient registry() does not know; registry() when absent. */
  latestRegistry?: () => Registry;
  db: Database;
  log: Logger;
  /** Publishes signed records on the bus: the dead_lettered event of a deposit nobody can pull. */
  publish(records: OutgoingRecord[]): Promise<void>;
  /** Called with the number of records of each applied batch (metrics). */
  onApplied?(records: number): void;
  /** Partitions handled at once (their batches then share one transaction); default 1. */
  concurrentPartitions?: number;
  /** The group's session timeout (config consumerSessionTimeoutMs); 30 s when absent. */
  sessionTimeoutMs?: number;
  /** Called for each partition read again after a restore (metrics). */
  onCatchUp?(catchUp: CatchUp): void;
}

/** What one partition's batch brings to the read models. */
interface LedgerBatch {
  events: BusEvent[];
  deposits: Deposit[];
  /** Where the partition's batch ended: stored with the rows. */
  offsets: PartitionOffset[];
}

export function startLedger(opts: LedgerOptions): Promise<Consumer> {
  const inbox = new InboxStore(opts.db);
  // Prefixed like the topics, so separate buses on one cluster do not share a group.
  const groupId = `${opts.topics.prefix}lgsp-ledger`;
  const applier = new BatchedWriter<LedgerBatch>(async (batches) => {
    const events = batches.flatMap((b) => b.events);
    const deposits = batches.flatMap((b) => b.deposits);
    const offsets = mergeOffsets(batches.flatMap((b) => b.offsets));
    // A pull system's acknowledgement is a `delivered` event with mode pull.
    const acks = events.filter((ev) => ev.event === 'delivered' && ev.messageId && ev.detail?.mode === 'pull').map((ev) => ({ id: ev.messageId!, at: ev.at }));
    // Deposits first, so an ack applied together with its deposit finds the item.
    await opts.db.transaction(async (tx) => {
      await applyEventsIn(tx, withAcceptances(events));
      await inbox.deposit(deposits, tx);
      await inbox.acknowledge(acks, tx);
      await saveReadModelOffsets(tx, groupId, offsets);
    });
  });
  return startSignedConsumer({
    kafka: opts.kafka,
    groupId,
    topics: [opts.topics.events, opts.topics.inbox],
    verifier: opts.verifier,
    log: opts.log,
    // Status views tolerate a fraction of a second; fewer, larger fetches save CPU. Each fetch
    // is one transaction of three or more statements, each a wake-up of this process and of a
    // PostgreSQL backend: the broker answers after 200 ms unless 256 KiB (about 200 events) came
    // sooner, so up to five rounds a second whatever the rate (16 KiB meant one round per ~15
    // events: ten a second at 150 msg/s).
    maxWaitTimeInMs: 200,
    minBytes: 256 * 1024,
    // Applying an event twice changes nothing (the tables are rebuilt by reading the topics
    // again): commits once a second, not after every partition's batch.
    commitIntervalMs: 1000,
    partitionsConsumedConcurrently: opts.concurrentPartitions ?? 1,
    sessionTimeoutMs: opts.sessionTimeoutMs,
    storedOffsets: { db: opts.db, onCatchUp: opts.onCatchUp },
    handleBatch: async (records) => {
      const events: BusEvent[] = [];
      const deposits: Deposit[] = [];
      for (const r of records) {
        if (!r.verification.ok) {
          opts.log.warn({ topic: r.topic, partition: r.partition, offset: r.offset, reason: r.verification.reason }, 'ledger ignores an unverified record');
          continue;
        }
        let value: unknown;
        try {
          value = JSON.parse(r.value!.toString('utf8'));
        } catch {
          continue;
        }
        if (r.topic === opts.topics.inbox) {
          const envelope = value as Envelope;
          // A service just added may be known to the gateway that took the message and not yet
          // here (each service reads the registry file on its own timer): looked up again after
          // reading the file now, before anything is dead-lettered.
          const service = findCaughtUp(opts.registry, opts.latestRegistry, (registry) => registry.servicesOf(envelope.to?.member, envelope.to?.service)[0]);
          if (!service) {
            const reason = `the recipient is no longer in the registry: member ${envelope.to?.member ?? '(none)'} has no service ${envelope.to?.service ?? '(none)'} (removed or moved while the message was in flight), so no system can pull this inbox item`;
            opts.log.warn({ messageId: envelope.id, member: envelope.to?.member, service: envelope.to?.service }, 'inbox record for a service not in the registry: message dead-lettered');
            const dead = { ...messageEvent('dead_lettered', envelope, 'ledger', { stage: 'ledger', acceptedAt: envelope.time, reason, retryable: false }), id: `${envelope.id}:inbox-unresolved:${r.partition}:${r.offset}` };
            // Published before the batch is applied (a failed send redoes the batch), and applied
            // with it, so the timeline says so without waiting for the event to come back.
            await opts.publish(eventRecords(opts.topics, dead));
            events.push(dead);
            continue;
          }
          deposits.push({ envelope, system: service.system, depositedAt: headerValue(r.headers, DEPOSITED_AT_HEADER) ?? new Date().toISOString() });
        } else {
          events.push(value as BusEvent);
        }
      }
      // Throws while PostgreSQL is down: the batch is not committed and is consumed again. A batch
      // with nothing to apply still stores its offset (joining the others' transaction): left
      // behind, it would look like a restore at the next assignment.
      if (records.length > 0) await applier.write([{ events, deposits, offsets: batchOffsets(records) }]);
      opts.onApplied?.(records.length);
    },
  });
}
