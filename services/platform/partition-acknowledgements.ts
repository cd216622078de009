// Which records of a sendBatch did Kafka actually acknowledge?
//
// kafkajs 2.2.4 can resolve a sendBatch without writing some of its records. Its sendMessages
// sends one produce request per partition leader and, when one of them fails (a broker dies),
// retries after a metadata refresh — but it skips every broker that already answered, even when
// the refresh moved the failed broker's partitions to one of them. Those partitions' records are
// never sent and the call resolves as if they were. A broker-kill run lost 6 messages answered
// 202 this way. The response still tells the truth: it lists only the partitions a broker
// acknowledged. So the producer pins every record to one partition for the whole send (a sticky
// partitioner around kafkajs's default, so keyed records land where they always did) and, after
// the call, sends again exactly the records whose partition is missing from the response.
import { Partitioners, type ICustomPartitioner, type Message, type RecordMetadata, type TopicMessages } from 'kafkajs';

export class PartitionPinning {
  private readonly pinned = new WeakMap<Message, number>();

  /** For kafkajs's `createPartitioner`: the default choice, remembered per message object. */
  readonly createPartitioner: ICustomPartitioner = () => {
    const choose = Partitioners.DefaultPartitioner();
    return (args) => {
      const earlier = this.pinned.get(args.message);
      // Kept unless the topic no longer has that partition (it cannot shrink, but stay safe).
      if (earlier !== undefined && args.partitionMetadata.some((p) => p.partitionId === earlier)) return earlier;
      const partition = choose(args);
      this.pinned.set(args.message, partition);
      return partition;
    };
  };

  /**
   * The part of `sent` whose partition is not in `acknowledged`: records kafkajs did not write.
   * A record the partitioner never saw was not sent either.
   */
  unacknowledged(sent: TopicMessages[], acknowledged: RecordMetadata[]): TopicMessages[] {
    const written = new Set(acknowledged.filter((a) => a.errorCode === 0).map((a) => `${a.topicName}\u0000${a.partition}`));
    const missing: TopicMessages[] = [];
    for (const { topic, messages } of sent) {
      const left = messages.filter((m) => {
        const partition = this.pinned.get(m);
        return partition === undefined || !written.has(`${topic}\u0000${partition}`);
      });
      if (left.length > 0) missing.push({ topic, messages: left });
    }
    return missing;
  }
}
