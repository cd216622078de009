// Records written and read per delivered message, counted on the broker rather than in the
// services, so the figure holds whatever records the services choose to write:
//   written = growth of the end offsets of every topic of the run's prefix;
//   read    = growth of the committed offsets of every consumer group of the run's prefix.
// A group that reads without committing (a waiter on a fresh group) is not counted; every group
// on the happy path commits what it handled.
import type { Admin } from 'kafkajs';

export interface BusSnapshot {
  /** Sum of end offsets per topic. */
  ends: Record<string, number>;
  /** Sum of committed offsets per group and topic (`group topic`). */
  committed: Record<string, number>;
}

export interface BusCounts {
  written: number;
  read: number;
  writtenByTopic: Record<string, number>;
  readByGroup: Record<string, number>;
}

async function endOffsets(admin: Admin, topics: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  await Promise.all(
    topics.map(async (topic) => {
      const parts = await admin.fetchTopicOffsets(topic);
      out[topic] = parts.reduce((sum, p) => sum + Number(p.high), 0);
    }),
  );
  return out;
}

export async function busSnapshot(admin: Admin, prefix: string): Promise<BusSnapshot> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  const { groups } = await admin.listGroups();
  const committed: Record<string, number> = {};
  await Promise.all(
    groups
      .filter((g) => g.groupId.startsWith(prefix))
      .map(async ({ groupId }) => {
        for (const t of await admin.fetchOffsets({ groupId, topics })) {
          // -1 = nothing committed yet on that partition.
          const sum = t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
          if (sum > 0) committed[`${groupId} ${t.topic}`] = sum;
        }
      }),
  );
  return { ends: await endOffsets(admin, topics), committed };
}

/**
 * Waits (up to `timeoutMs`) until every group has committed up to the end of what it reads, so
 * a count taken after a phase is not short by a commit still on its way.
 */
export async function settledBusSnapshot(admin: Admin, prefix: string, timeoutMs = 5000): Promise<BusSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const snap = await busSnapshot(admin, prefix);
    const behind = Object.entries(snap.committed).some(([key, offset]) => offset < (snap.ends[key.slice(key.lastIndexOf(' ') + 1)] ?? 0));
    if (!behind || Date.now() > deadline) return snap;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function growth(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

export function busCounts(before: BusSnapshot, after: BusSnapshot): BusCounts {
  const writtenByTopic = growth(before.ends, after.ends);
  const readByGroup: Record<string, number> = {};
  for (const [key, d] of Object.entries(growth(before.committed, after.committed))) {
    const group = key.slice(0, key.lastIndexOf(' '));
    readByGroup[group] = (readByGroup[group] ?? 0) + d;
  }
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return { written: sum(writtenByTopic), read: sum(readByGroup), writtenByTopic, readByGroup };
}

/** Per delivered message, two decimals. */
export function perMessage(counts: BusCounts, delivered: number): { written: number; read: number } {
  const per = (n: number) => Math.round((n / Math.max(1, delivered)) * 100) / 100;
  return { written: per(counts.written), read: per(counts.read) };
}
