// Consumer lag per connector (and for the audit service): for each consumer group, the records
// on its topics that it has not committed yet, from the kafkajs admin API (committed group
// offsets against the partitions' high watermarks). Polled in the background and cached, so
// the live view and /metrics never wait on Kafka.
import type { Admin } from 'kafkajs';
import type { Logger } from '../platform/logger.js';

export interface ConsumerGroupSpec {
  /** What the operator calls it: a connector name, or `audit`. */
  name: string;
  kind: 'connector' | 'service';
  groupId: string;
  topics: string[];
}

export interface GroupLag {
  name: string;
  kind: 'connector' | 'service';
  groupId: string;
  /** Records not yet consumed, summed over the group's partitions; null when unknown. */
  lag: number | null;
  byTopic: Record<string, number>;
  error?: string;
  measuredAt: string;
}

export async function measureGroupLag(admin: Admin, spec: ConsumerGroupSpec, existingTopics: Set<string>): Promise<GroupLag> {
  const measuredAt = new Date().toISOString();
  // A connector with a manifest but no topics on this cluster is simply not deployed here.
  const topics = spec.topics.filter((topic) => existingTopics.has(topic));
  if (topics.length === 0) return { name: spec.name, kind: spec.kind, groupId: spec.groupId, lag: null, byTopic: {}, error: 'no topics on this cluster', measuredAt };
  try {
    const committed = await admin.fetchOffsets({ groupId: spec.groupId, topics });
    const byTopic: Record<string, number> = {};
    let lag = 0;
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic);
      let topicLag = 0;
      for (const end of ends) {
        const c = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        // No commit yet: everything since the log start is still to be consumed.
        const from = c === '-1' ? Number(end.low) : Number(c);
        topicLag += Math.max(0, Number(end.high) - from);
      }
      byTopic[topic] = topicLag;
      lag += topicLag;
    }
    return { name: spec.name, kind: spec.kind, groupId: spec.groupId, lag, byTopic, measuredAt };
  } catch (err) {
    return { name: spec.name, kind: spec.kind, groupId: spec.groupId, lag: null, byTopic: {}, error: (err as Error).message, measuredAt };
  }
}

export class LagMonitor {
  private latest: GroupLag[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly admin: Admin,
    private readonly groups: () => ConsumerGroupSpec[],
    private readonly log: Logger,
    private readonly intervalMs = 5000,
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  /** One measurement at a time; callers arriving meanwhile share it. */
  refresh(): Promise<void> {
    return (this.running ??= (async () => {
      try {
        const results: GroupLag[] = [];
        const existing = new Set(await this.admin.listTopics());
        for (const spec of this.groups()) results.push(await measureGroupLag(this.admin, spec, existing));
        this.latest = results;
      } catch (err) {
        // Kafka cannot be asked (down, or refusing the console): the figures of the last
        // measurement would stand on the live view and in lgsp_consumer_lag as if current — a
        // lag frozen at its last value while nothing is consumed. Each group says it instead.
        const message = (err as Error).message;
        const measuredAt = new Date().toISOString();
        this.latest = this.groups().map((spec) => ({ name: spec.name, kind: spec.kind, groupId: spec.groupId, lag: null, byTopic: {}, error: `not measured: ${message}`, measuredAt }));
        this.log.warn({ err: message }, 'consumer lag measurement failed');
      } finally {
        this.running = null;
      }
    })());
  }

  get lags(): GroupLag[] {
    return this.latest;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
