// Keeps the gateways' shared inbox table in step with Kafka (one consumer group for all of
// them; each consumed batch is one transaction): deposits come from lgsp.inbox (produced and
// signed by the runtime for systems that pull), acknowledgements from lgsp.events (`delivered`
// with mode pull, whichever gateway took the ack). Records that fail signature verification are
// ignored: only the platform can put something in an inbox.
import type { Consumer, Kafka } from 'kafkajs';
import type { BusEvent } from '../platform/bus-events.js';
import type { Envelope } from '../platform/envelope.js';
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';
import type { RecordVerifier } from '../platform/record-signing.js';
import type { Registry } from '../platform/registry.js';
import { headerValue, startSignedConsumer } from '../platform/signed-consumer.js';
import type { Topics } from '../platform/topics.js';
import type { Deposit, InboxStore } from './inbox-store.js';
import { DEPOSITED_AT_HEADER } from '../platform/bus-headers.js';

export function startInboxFeed(opts: {
  kafka: Kafka;
  topics: Topics;
  groupId: string;
  verifier: RecordVerifier;
  registry: () => Registry;
  inbox: InboxStore;
  db: Database;
  log: Logger;
}): Promise<Consumer> {
  return startSignedConsumer({
    kafka: opts.kafka,
    groupId: opts.groupId,
    topics: [opts.topics.inbox, opts.topics.events],
    verifier: opts.verifier,
    log: opts.log,
    // Only deposits and pull receipts matter here: skip every other status event before it is
    // verified or parsed (this consumer reads all of lgsp.events).
    accept: (topic, headers) => topic === opts.topics.inbox || headerValue(headers, 'lgsp-event') === 'delivered',
    handleBatch: async (records) => {
      const deposits: Deposit[] = [];
      const acks: { id: string; at: string }[] = [];
      for (const r of records) {
        if (!r.verification.ok) {
          opts.log.warn({ topic: r.topic, offset: r.offset, reason: r.verification.reason }, 'ignoring unverified inbox record');
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
          const service = opts.registry().servicesOf(envelope.to?.member, envelope.to?.service)[0];
          if (!service) {
            opts.log.warn({ messageId: envelope.id }, 'inbox record for a service not in the registry');
            continue;
          }
          deposits.push({ envelope, system: service.system, depositedAt: headerValue(r.headers, DEPOSITED_AT_HEADER) ?? new Date().toISOString() });
        } else {
          const ev = value as BusEvent;
          if (ev.event === 'delivered' && ev.messageId && ev.detail?.mode === 'pull') acks.push({ id: ev.messageId, at: ev.at });
        }
      }
      // Deposits first, so an ack in the same batch finds its item. Throws while PostgreSQL is
      // down: the batch is not committed and comes again.
      await opts.db.transaction(async (tx) => {
        await opts.inbox.deposit(deposits, tx);
        await opts.inbox.acknowledge(acks, tx);
      });
    },
  });
}
