// Which offset of each partition may be committed when records finish out of order. The runner
// takes records off a partition as fast as they arrive and finishes them in any order (a retry
// parked until its due time, a slow call next to fast ones), but a committed offset promises
// that everything before it is done. So per partition: the lowest offset still open, or one past
// the highest taken when none is. A crash re-reads from there: at-least-once, never a skip.

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read (Kafka's committed-offset convention). */
  offset: string;
}

interface PartitionState {
  open: Set<bigint>;
  /** One past the highest offset taken. */
  next: bigint;
  committed: bigint;
}

export class OffsetWatermarks {
  private partitions = new Map<string, PartitionState & { topic: string; partition: number }>();

  private state(topic: string, partition: number) {
    const id = `${topic}\u0000${partition}`;
    let s = this.partitions.get(id);
    if (!s) this.partitions.set(id, (s = { topic, partition, open: new Set(), next: -1n, committed: -1n }));
    return s;
  }

  /** A record was taken and is not finished yet. */
  take(topic: string, partition: number, offset: string): void {
    const s = this.state(topic, partition);
    const o = BigInt(offset);
    s.open.add(o);
    if (o + 1n > s.next) s.next = o + 1n;
  }

  /** A record is finished: its outcome is on Kafka. */
  finish(topic: string, partition: number, offset: string): void {
    this.state(topic, partition).open.delete(BigInt(offset));
  }

  /** Records still open (taken, not finished). */
  get openCount(): number {
    let n = 0;
    for (const s of this.partitions.values()) n += s.open.size;
    return n;
  }

  /** Partitions whose commit point moved since the last call, with that point. */
  advanced(): PartitionOffset[] {
    const out: PartitionOffset[] = [];
    for (const s of this.partitions.values()) {
      if (s.next < 0n) continue;
      let low = s.next;
      for (const o of s.open) if (o < low) low = o;
      if (low > s.committed) {
        s.committed = low;
        out.push({ topic: s.topic, partition: s.partition, offset: String(low) });
      }
    }
    return out;
  }

  /** After a rebalance: every partition is read again from its committed offset. */
  reset(): void {
    this.partitions = new Map();
  }
}
