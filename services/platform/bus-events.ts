// Status and audit events. Every step of every message becomes one BusEvent; the same event
// goes to lgsp.events (status timelines) and lgsp.audit (the hash-chained audit log). Audit
// events carry digests and reasons, never message bodies.
import { v7 as uuidv7 } from 'uuid';
import type { Destination, Envelope, Party } from './envelope.js';
import type { Topics } from './topics.js';
import type { OutgoingRecord } from './kafka-transport.js';

export const MESSAGE_STATUSES = ['accepted', 'delivered', 'failed', 'dead_lettered'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export type BusEventName =
  | 'accepted'
  | 'rejected'
  | 'routed'
  | 'delivered'
  | 'delivery_failed'
  | 'dead_lettered'
  | 'replayed'
  | 'status'
  /** Put in the recipient system's inbox (pull delivery); `delivered` follows when it acknowledges. */
  | 'deposited'
  | 'operator_action';

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

/** The records that publish an event: status topic (when it concerns a message) and audit. */
export function eventRecords(topics: Topics, ev: BusEvent): OutgoingRecord[] {
  const value = JSON.stringify(ev);
  const headers = { 'lgsp-event': ev.event, ...(ev.messageId ? { 'lgsp-id': ev.messageId } : {}) };
  const key = ev.messageId ?? ev.id;
  const records: OutgoingRecord[] = [{ topic: topics.audit, key, value, headers }];
  if (ev.messageId) records.push({ topic: topics.events, key, value, headers });
  return records;
}
