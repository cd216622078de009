// Refused requests are audited too (DESIGN §6: `rejected` with reason). They are published in
// the background: a refusal must not wait for, or fail because of, Kafka.
import { v7 as uuidv7 } from 'uuid';
import { eventRecords, type BusEvent } from '../platform/bus-events.js';
import type { BatchingProducer } from '../platform/kafka-transport.js';
import type { Logger } from '../platform/logger.js';
import type { Topics } from '../platform/topics.js';

export class RejectionAudit {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly topics: Topics,
    private readonly log: Logger,
  ) {}

  rejection(stage: string, detail: Record<string, unknown>, caller?: { clientId: string; member: string }): void {
    const ev: BusEvent = {
      id: uuidv7(),
      event: 'rejected',
      at: new Date().toISOString(),
      actor: 'gateway',
      ...(caller ? { from: { member: caller.member, system: caller.clientId } } : {}),
      detail: { stage, ...detail },
    };
    this.producer.send(eventRecords(this.topics, ev)).catch((err: Error) => this.log.warn({ err: err.message }, 'could not audit a rejection'));
  }
}
