// Request/reply over the bus (POST /v1/requests). A connector answers a request message with
// ctx.reply(); the runtime publishes the answer as a signed record on lgsp.reply, keyed by the
// request's message id, and each gateway instance reads the topic and hands an answer to the
// caller it is holding, if any. Replies can carry personal data, so the audit never reads
// lgsp.reply (the request's timeline records only a digest), and the topic keeps them for an
// hour: a reply is worth something only while its requester waits.
import type { Admin } from 'kafkajs';
import { retryTopicCreation } from './kafka-transport.js';
import { payloadDigest, type Envelope, type Party } from './envelope.js';
import { awaitTopicsAfterCreateError, type OutgoingRecord } from './kafka-transport.js';
import type { Topics } from './topics.js';

export const REPLY_RETENTION_MS = 3_600_000;
export const IN_REPLY_TO_HEADER = 'lgsp-in-reply-to';

export function replyTopicName(topics: Topics): string {
  return `${topics.prefix}lgsp.reply`;
}

export interface ReplyValue {
  /** Message id of the request this answers. */
  inReplyTo: string;
  /** The request's message type (the reply's schema is the type's reply schema). */
  type: string;
  /** Who answered: the providing member and service, through which connector. */
  from: { member: string; service: string; connector: string };
  /** The requester. */
  to: Party;
  correlationId: string;
  at: string;
  payloadDigest: string;
  /** On the topic: a compact JWE sealed for the gateway (sealed-payload.ts). */
  payload: Record<string, unknown>;
}

/** `seal`: the payload as the record carries it (sealed for the gateway, which opens it). */
export function replyRecord(topics: Topics, request: Envelope, connector: string, payload: Record<string, unknown>, seal: (payload: unknown, json: string) => string): { record: OutgoingRecord; value: ReplyValue } {
  const json = JSON.stringify(payload);
  const value: ReplyValue = {
    inReplyTo: request.id,
    type: request.type,
    from: { member: request.to.member, service: request.to.service, connector },
    to: request.from,
    correlationId: request.correlationId,
    at: new Date().toISOString(),
    payloadDigest: payloadDigest(json),
    payload,
  };
  return {
    value,
    record: { topic: replyTopicName(topics), key: request.id, value: JSON.stringify({ ...value, payload: seal(payload, json) }), headers: { [IN_REPLY_TO_HEADER]: request.id, 'lgsp-type': request.type } },
  };
}

/** Creates lgsp.reply with its short retention when it does not exist yet. */
export function ensureReplyTopic(admin: Admin, topics: Topics, partitions: number): Promise<void> {
  const topic = replyTopicName(topics);
  return retryTopicCreation(async () => {
    if ((await admin.listTopics()).includes(topic)) return;
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: partitions, replicationFactor: -1, configEntries: [{ name: 'retention.ms', value: String(REPLY_RETENTION_MS) }] }],
      });
    } catch (err) {
      // Created concurrently by another gateway, or metadata lagging: fine once it has leaders.
      await awaitTopicsAfterCreateError(admin, [topic], err);
    }
  });
}
