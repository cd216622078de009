// Status and audit events. The message record on lgsp.msg.* is itself the acceptance (no event
// of its own); every later step becomes one BusEvent on lgsp.events — one outcome per delivery
// attempt, plus business statuses, rejections and operator actions. The status read models and
// the audit service (which also reads lgsp.msg.*) consume that one topic: there are no copies.
// Events carry digests and reasons, never message bodies.
import { uuidv7 } from './uuid7.js';
import type { Destination, Envelope, Party } from './envelope.js';
import type { Topics } from './topics.js';
import type { OutgoingRecord } from './kafka-transport.js';

export const MESSAGE_STATUSES = ['accepted', 'delivered', 'failed', 'dead_lettered'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Every event name on the bus and in the audit chain (what an audit search by `event` takes). */
export const BUS_EVENT_NAMES = [
  /** Never on the bus: the gateway's own status row, and the audit entry made from the message record. */
  'accepted',
  'rejected',
  'delivered',
  'delivery_failed',
  'dead_lettered',
  'replayed',
  'status',
  /** Put in the recipient system's inbox (pull delivery); `delivered` follows when it acknowledges. */
  'deposited',
  'operator_action',
] as const;
export type BusEventName = (typeof BUS_EVENT_NAMES)[number];

export interface BusEvent {
  id: string;
  event: BusEventName;
  at: string;
  actor: string;
  messageId?: string;
  type?: string;
  from?: Party;
  to?: Destination;
  correlationId?: string;
  payloadDigest?: string;
  detail?: Record<string, unknown>;
}

export function messageEvent(
  event: BusEventName,
  envelope: Pick<Envelope, 'id' | 'type' | 'from' | 'to' | 'correlationId' | 'payloadDigest'>,
  actor: string,
  detail?: Record<string, unknown>,
): BusEvent {
  return {
    id: uuidv7(),
    event,
    at: new Date().toISOString(),
    actor,
    messageId: envelope.id,
    type: envelope.type,
    from: envelope.from,
    to: envelope.to,
    correlationId: envelope.correlationId,
    payloadDigest: envelope.payloadDigest,
    ...(detail ? { detail } : {}),
  };
}

/**
 * The 'accepted' step of a message's timeline. It is never on the bus (the message record is
 * the acceptance): the gateway writes it when Kafka takes the message, and the ledger derives
 * it again from the first outcome (`detail.acceptedAt`, in case the gateway's row is missing).
 * Both give it this id and the envelope's time, so the timeline has it once.
 */
export function acceptedStep(
  envelope: Pick<Envelope, 'id' | 'type' | 'from' | 'to' | 'correlationId' | 'payloadDigest' | 'time'>,
  detail?: Record<string, unknown>,
): BusEvent {
  return { ...messageEvent('accepted', envelope, 'gateway', detail), id: acceptedStepId(envelope.id), at: envelope.time };
}

export function acceptedStepId(messageId: string): string {
  return `${messageId}:accepted`;
}

/**
 * The id of a connector's one successful outcome of a message (`delivered`, or `deposited` in a
 * pull inbox). The delivery ledger lets a connector hand a message over once, but the event may
 * be published twice: a runner that reads the record again before the ledger marks the event as
 * published (a rebalance within the mark's second) announces it again, in case it never went
 * out. Under this one id the timeline and the audit chain, which keep each event id once, keep
 * one step.
 */
export function handedOverEventId(messageId: string, connector: string): string {
  return `${messageId}:handed-over:${connector}`;
}

/** Status a message has after an event; events that do not change the status return null. */
export function statusAfter(event: BusEventName): MessageStatus | null {
  switch (event) {
    case 'accepted':
    case 'replayed':
      return 'accepted';
    case 'delivered':
      return 'delivered';
    case 'delivery_failed':
    case 'rejected':
      return 'failed';
    case 'dead_lettered':
      return 'dead_lettered';
    default:
      return null;
  }
}

/** The record key of operator actions on a connector: every event about one connector on one partition, in order. */
export function connectorAuditKey(connector: string): string {
  return `connector:${connector}`;
}

/**
 * The one record that publishes an event on lgsp.events. Events that must stay in order share a
 * key (one partition): by default the message's id, else the event's own; `key` overrides it.
 */

export function eventRecords(topics: Topics, ev: BusEvent, key = ev.messageId ?? ev.id): OutgoingRecord[] {
  const headers = { 'lgsp-event': ev.event, ...(ev.messageId ? { 'lgsp-id': ev.messageId } : {}) };
  return [{ topic: topics.events, key, value: JSON.stringify(ev), headers }];
}
