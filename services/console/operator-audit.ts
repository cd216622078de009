// Every operator action through the console becomes an `operator_action` audit event, written
// (acks=all) before the action is carried out: an action that cannot be audited is not done.
// When the action then fails, a second event records the failure; when it is refused because
// its intent was not acknowledged in time, a second event says it was not carried out (the
// intent may still reach Kafka after the refusal: a hanging broker appends it when it wakes).
import { uuidv7 } from '../platform/uuid7.js';
import { eventRecords, type BusEvent } from '../platform/bus-events.js';
import type { Caller } from '../platform/access-token.js';
import type { BatchingProducer } from '../platform/kafka-transport.js';
import type { Topics } from '../platform/topics.js';
import { ProblemError } from '../platform/problem.js';

export type OperatorActionName =
  | 'login'
  | 'logout'
  | 'replay'
  | 'bulk_replay'
  | 'connector_pause'
  | 'connector_resume'
  | 'connector_restart'
  | 'kpi_export';

export function operatorActor(caller: Caller): string {
  return `console/${caller.clientId}`;
}

/** An audited operator action: its event's id and the partition key it was written with. */
export interface AuditedIntent {
  id: string;
  key: string;
}

export class OperatorAudit {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly topics: Topics,
  ) {}

  private event(caller: Caller, action: OperatorActionName, detail: Record<string, unknown>): BusEvent {
    return {
      id: uuidv7(),
      event: 'operator_action',
      at: new Date().toISOString(),
      actor: operatorActor(caller),
      detail: { action, operator: caller.clientId, member: caller.member, roles: caller.roles, ...detail },
    };
  }

  /**
   * Writes the audit event or throws a 503 problem: the caller must not act unaudited. `orderKey`:
   * the partition key of what the action produces (a replay: its message's id), so the audit
   * chains the intent before its effects. The returned intent is what recordFailure names.
   */
  async record(caller: Caller, action: OperatorActionName, detail: Record<string, unknown> = {}, orderKey?: string): Promise<AuditedIntent> {
    const ev = this.event(caller, action, detail);
    const key = orderKey ?? ev.id;
    await this.sendOrRefuse([{ ev, key }]);
    return { id: ev.id, key };
  }

  /**
   * Several intents of one action in one produce, each keyed by its own `orderKey` (a bulk
   * replay: one per message, so each is chained before that message's replay). All or nothing:
   * throws the 503 problem record() throws.
   */
  async recordEach(caller: Caller, action: OperatorActionName, items: Array<{ detail: Record<string, unknown>; orderKey: string }>): Promise<AuditedIntent[]> {
    if (items.length === 0) return [];
    const events = items.map((item) => ({ ev: this.event(caller, action, item.detail), key: item.orderKey }));
    await this.sendOrRefuse(events);
    return events.map(({ ev, key }) => ({ id: ev.id, key }));
  }

  /** Sends intents, or throws the 503 that refuses the action: nothing is done unaudited. */
  private async sendOrRefuse(intents: Array<{ ev: BusEvent; key: string }>): Promise<void> {
    try {
      await this.producer.send(intents.flatMap(({ ev, key }) => eventRecords(this.topics, ev, key)));
    } catch (err) {
      const reason = `The action was not carried out because it could not be audited: ${(err as Error).message}`;
      this.recordNotCarriedOut(intents, reason);
      throw new ProblemError(503, 'AUDIT_UNAVAILABLE', 'Service unavailable', reason, { retryAfterSeconds: 5 });
    }
  }

  /**
   * Intents refused for want of an acknowledgement may still be appended (the broker hung, then
   * woke): each gets a follow-up with its key, so the audit chains it after the intent and an
   * auditor reads that the action was not carried out. Queued until Kafka takes it, not bounded
   * by the acknowledgement timeout the caller was refused on; best effort beyond that.
   */
  private recordNotCarriedOut(intents: Array<{ ev: BusEvent; key: string }>, reason: string): void {
    const followUps = intents.flatMap(({ ev, key }) =>
      eventRecords(this.topics, { ...ev, id: uuidv7(), at: new Date().toISOString(), detail: { ...ev.detail, intent: ev.id, outcome: 'not_carried_out', reason } }, key));
    this.producer.send(followUps, { untilAcknowledged: true }).catch(() => undefined);
  }

  /**
   * Best effort: the failure of an already audited action. Keyed like its intent, so both land
   * on one partition and the audit chains the failure after the intent (it once came first).
   */
  async recordFailure(caller: Caller, action: OperatorActionName, detail: Record<string, unknown>, intent: AuditedIntent): Promise<void> {
    await this.producer.send(eventRecords(this.topics, this.event(caller, action, { ...detail, intent: intent.id, outcome: 'failed' }), intent.key)).catch(() => undefined);
  }
}
