// The gateway's end of request/reply: callers of POST /v1/requests wait here, by message id,
// for the signed answer a connector published on lgsp.reply (platform/reply-topic.ts). Every
// gateway instance reads every reply with a consumer group of its own and keeps the ones it is
// waiting for. The group reads the topic from its beginning, which holds at most an hour of
// replies, so a reply produced while the group is still joining is not missed.
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { createKafka } from '../platform/kafka-transport.js';
import type { Logger } from '../platform/logger.js';
import { busRecordVerifier } from '../platform/record-writers.js';
import { IN_REPLY_TO_HEADER, ensureReplyTopic, replyTopicName, type ReplyValue } from '../platform/reply-topic.js';
import { headerValue, startSignedConsumer } from '../platform/signed-consumer.js';
import { wakeFetches } from '../platform/kafkajs-fetch-window.js';
import type { GatewayContext } from './gateway-context.js';

export interface PendingReply {
  promise: Promise<ReplyValue>;
  cancel(): void;
}

/**
 * How far apart the reply consumer's fetches are while none of this gateway's callers waits for a
 * reply (a caller who starts waiting ends the pause at once, before its request is produced).
 */
const IDLE_FETCH_INTERVAL_MS = 1000;

export class ReplyWaiter {
  private readonly waiting = new Map<string, (reply: ReplyValue) => void>();
  private consumer: Consumer | null = null;

  private constructor(
    private readonly log: Logger,
    /** One group per gateway process: each instance must see every reply. */
    private readonly groupId: string,
  ) {}

  static async start(ctx: GatewayContext): Promise<ReplyWaiter> {
    const waiter = new ReplyWaiter(ctx.log, `${ctx.topics.prefix}lgsp-gateway-replies-${randomUUID()}`);
    const kafka = createKafka('lgsp-gateway-replies', ctx.config, 'gateway', ctx.log);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureReplyTopic(admin, ctx.topics, ctx.config.topicPartitions);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    waiter.consumer = await startSignedConsumer({
      kafka,
      groupId: waiter.groupId,
      topics: [replyTopicName(ctx.topics)],
      verifier: busRecordVerifier(ctx.publicKeys, ctx.topics),
      fromBeginning: true,
      // 500 ms (fewer idle fetches) was measured and reverted: at full 1 KiB load the bus
      // accepted 452–568 msg/s with it against 711–746 with 50 (docs/measurements-log.md).
      maxWaitTimeInMs: 50,
      // With no caller waiting, one fetch a second instead of twenty: an idle gateway's largest
      // cost was this loop (and the broker's side of it).
      fetchPacing: { isIdle: () => waiter.waiting.size === 0, idleIntervalMs: IDLE_FETCH_INTERVAL_MS },
      log: ctx.log,
      // Every gateway reads every reply but waits for few of them: the others are skipped
      // before their signature and inclusion proof are checked (with N gateways each reply is
      // verified once, by the gateway whose caller waits for it, not N times).
      accept: (_topic, headers) => waiter.waiting.has(headerValue(headers, IN_REPLY_TO_HEADER) ?? ''),
      handleBatch: async (records) => {
        for (const r of records) {
          const inReplyTo = headerValue(r.headers, IN_REPLY_TO_HEADER);
          // Still awaited (accept() let it through, but a caller may have given up since).
          if (!inReplyTo || !waiter.waiting.has(inReplyTo)) continue;
          if (!r.verification.ok) {
            waiter.log.warn({ inReplyTo, reason: r.verification.reason }, 'ignoring an unverified reply');
            continue;
          }
          let value: ReplyValue;
          try {
            value = JSON.parse(r.value!.toString('utf8')) as ReplyValue;
            // Sealed for the gateway by the runner; opened only once the signature checked out.
            value = { ...value, payload: ctx.payloads.open(value.payload) };
          } catch (err) {
            waiter.log.warn({ inReplyTo, err: (err as Error).message }, 'ignoring a reply that cannot be read');
            continue;
          }
          // The signed value must agree with the header it was routed by.
          if (value.inReplyTo === inReplyTo) waiter.waiting.get(inReplyTo)?.(value);
        }
      },
    });
    return waiter;
  }

  /** Registers interest in the reply to a message; call it before the request is produced. */
  expect(messageId: string): PendingReply {
    let resolve!: (reply: ReplyValue) => void;
    const promise = new Promise<ReplyValue>((r) => (resolve = r));
    this.waiting.set(messageId, (reply) => {
      this.waiting.delete(messageId);
      resolve(reply);
    });
    // The reply consumer may be pausing between fetches: it fetches again now, before the
    // request is even produced, so the reply finds a fetch waiting for it.
    wakeFetches(this.groupId);
    return { promise, cancel: () => this.waiting.delete(messageId) };
  }

  get pending(): number {
    return this.waiting.size;
  }

  async stop(): Promise<void> {
    this.waiting.clear();
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
