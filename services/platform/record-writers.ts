// Which service may write records on which topic. A record's signature proves which service's
// record key signed it; this table says whether that service had any business writing there.
// A message record (work, retry and dead-letter topics carry the gateway's original signature)
// signed by the runner's or the console's key is a forgery even though the signature verifies.
import type { KeyService } from './key-purposes.js';
import type { PublicKeyset } from './public-keyset.js';
import { RecordVerifier } from './record-signing.js';
import { replyTopicName } from './reply-topic.js';
import type { Topics } from './topics.js';

export type WriterPolicy = (topic: string) => readonly KeyService[];

export function recordWriters(topics: Topics): WriterPolicy {
  const retry = `${topics.prefix}lgsp.retry.`;
  const deadLetter = `${topics.prefix}lgsp.dlq.`;
  const reply = replyTopicName(topics);
  return (topic) => {
    // Messages enter the bus only through the gateway; retries, dead letters and replays
    // forward the gateway's signature unchanged.
    if (topics.serviceOf(topic) !== null || topic.startsWith(retry) || topic.startsWith(deadLetter)) return ['gateway'];
    if (topic === topics.inbox || topic === reply) return ['runner'];
    if (topic === topics.events) return ['gateway', 'runner', 'console'];
    // Deny by default: a topic nobody is known to write holds no record anyone should trust.
    return [];
  };
}

/**
 * The verifier every bus consumer uses: record keys only (a token or checkpoint key never
 * passes for a record), each topic only from its writers. Consumers that must keep authentic
 * late records (audit, status read models: enforceExpiry false) accept every record key ever
 * published; the others only keys within their grace period.
 */
export function busRecordVerifier(publicKeys: PublicKeyset, topics: Topics, opts: { enforceExpiry?: boolean; now?: () => number } = {}): RecordVerifier {
  const archive = opts.enforceExpiry === false;
  return new RecordVerifier(publicKeys.lookup('record', { archive }), {
    ...opts,
    writers: { allowed: recordWriters(topics), ownerOf: (kid) => publicKeys.ownerOf(kid) },
  });
}
