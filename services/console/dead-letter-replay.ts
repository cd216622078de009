// Replays dead letters: the original signed record goes back, unchanged and with its original
// signature, to its connector through the connector's retry topic as a fresh first attempt
// (header lgsp-origin-topic names the work topic it was first consumed from, so it keeps that
// topic's ordering lane), together with
// a `replayed` event on the message's timeline (status back to accepted, actor = the operator).
// The runner's delivery ledger never recorded a dead-lettered message as delivered, so the
// replayed record is delivered once. Only records that still verify (platform signature, not
// expired) and came from a work topic of this bus can be replayed: a forged record stays dead.
// Of the records the runner refused, only those whose payload it could not decrypt are taken
// (a lost payload-encryption key restored since: docs/operator-guide.md, "Incident").
// Through the retry topic because the console's Kafka principal may not write the message
// topics at all (platform/kafka-acls.ts): only the gateway writes those.
import { eventRecords, messageEvent } from '../platform/bus-events.js';
import type { Caller } from '../platform/access-token.js';
import type { Envelope } from '../platform/envelope.js';
import type { BatchingProducer } from '../platform/kafka-transport.js';
import type { RecordVerifier } from '../platform/record-signing.js';
import type { Topics } from '../platform/topics.js';
import { ProblemError, problems } from '../platform/problem.js';
import { refusedForGood, type DeadLetterStore } from './dead-letter-store.js';
import { operatorActor } from './operator-audit.js';
import { ORIGIN_TOPIC_HEADER, REPLAY_OF_HEADER, REPLAYED_BY_HEADER, RETRY_SINCE_HEADER } from '../platform/bus-headers.js';

export interface ReplayResult {
  id: number;
  messageId: string;
  originTopic: string;
}

export class DeadLetterReplayer {
  constructor(
    private readonly deps: {
      store: DeadLetterStore;
      producer: BatchingProducer;
      topics: Topics;
      /** Enforces expiry: the runner would reject an expired record anyway. */
      verifier: RecordVerifier;
      /**
       * The connectors this bus runs (the catalogue's). A dead letter kept from one it no longer
       * runs (removed, renamed) would go to a retry topic nobody reads, marked replayed for good.
       */
      connectors: readonly string[];
      onReplayed?: () => void;
    },
  ) {}

  async replay(id: number, caller: Caller): Promise<ReplayResult> {
    const dl = await this.deps.store.get(id);
    if (!dl) throw problems.notFound('DEAD_LETTER_NOT_FOUND', `No dead letter ${id}`);
    if (dl.replayedAt) throw problems.conflict('ALREADY_REPLAYED', `Dead letter ${id} was replayed at ${dl.replayedAt} by ${dl.replayedBy}`);
    if (!dl.value || !dl.signature) throw problems.conflict('NOT_REPLAYABLE', `Dead letter ${id} is not a signed bus record (${dl.verifyReason ?? 'unsigned'}); it cannot be replayed`);
    if (refusedForGood(dl.reason)) {
      throw problems.conflict('NOT_REPLAYABLE', `Dead letter ${id} was refused by the runner's checks (${dl.reason}); a replay would be refused again`);
    }
    if (!this.deps.connectors.includes(dl.connector)) {
      throw problems.conflict(
        'NOT_REPLAYABLE',
        `Dead letter ${id} belongs to connector ${dl.connector}, which this bus does not run (it runs ${this.deps.connectors.join(', ')}): nothing would read its retry topic. Install the connector again, then replay`,
      );
    }
    const origin = dl.originTopic;
    if (!origin || this.deps.topics.serviceOf(origin) === null) {
      throw problems.conflict('NOT_REPLAYABLE', `Dead letter ${id} has no work topic of this bus to return to (origin ${origin ?? 'unknown'})`);
    }
    // Checked against the topic it goes back to: only a gateway-signed message may return there.
    const verification = await this.deps.verifier.verify(dl.value, dl.signature, origin);
    if (!verification.ok) throw problems.conflict('NOT_REPLAYABLE', `Dead letter ${id} cannot be replayed: ${verification.reason}`);
    let envelope: Envelope;
    try {
      envelope = JSON.parse(dl.value.toString('utf8')) as Envelope;
    } catch {
      throw problems.conflict('NOT_REPLAYABLE', `Dead letter ${id} does not hold an envelope`);
    }
    if (!(await this.deps.store.claimReplay(id))) throw problems.conflict('ALREADY_REPLAYED', `Dead letter ${id} is being or has been replayed`);
    const replayed = messageEvent('replayed', envelope, operatorActor(caller), {
      operator: caller.clientId,
      connector: dl.connector,
      deadLetter: { topic: dl.topic, partition: dl.partition, offset: dl.offset },
      reason: dl.reason,
      originTopic: origin,
    });
    try {
      await this.deps.producer.send([
        ...eventRecords(this.deps.topics, replayed),
        {
          topic: this.deps.topics.retry(dl.connector),
          key: dl.key ?? undefined,
          value: dl.value,
          preserveSignature: dl.signature,
          headers: {
            'lgsp-id': envelope.id,
            [ORIGIN_TOPIC_HEADER]: origin,
            [REPLAYED_BY_HEADER]: caller.clientId,
            [REPLAY_OF_HEADER]: `${dl.topic}/${dl.partition}/${dl.offset}`,
            // A replay gets a fresh retry budget (the runner's time budget runs from here).
            [RETRY_SINCE_HEADER]: String(Date.now()),
          },
        },
      ]);
    } catch (err) {
      await this.deps.store.releaseReplay(id);
      if (err instanceof ProblemError) throw err;
      throw problems.unavailable(`Kafka did not take the replay: ${(err as Error).message}`);
    }
    await this.deps.store.completeReplay(id, caller.clientId);
    this.deps.onReplayed?.();
    return { id, messageId: envelope.id, originTopic: origin };
  }
}
