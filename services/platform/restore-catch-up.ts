// A read model catches up by itself after its database was restored from a dump older than the
// bus. Its consumer group's offsets are on Kafka, past what the restored database holds; the
// database keeps its own (read-model-offsets.ts), written with the rows. When partitions are
// assigned, the consumer compares the two for each of them:
//
//   - no row at all for the group (the first start after this was introduced, or of a new bus):
//     the group's offsets, stored as the starting point of every partition of its topics (where
//     the group has none, the start of the log), so that from then on a partition without a row
//     can only be one the database never applied anything of;
//   - the database behind the group (a restore): seek back to the database's offset, so the
//     records after the dump are applied again (each read model skips what it already holds);
//     never before the start of the log: what retention deleted is gone, and is said so. A
//     partition without a row counts as offset 0: the dump was taken before anything of it was
//     applied (found by the restore test: three messages' events all in one partition before the
//     dump, and the other partition's after it were never applied again);
//   - the database level with or ahead of the group: the group's offset. Ahead is the ordinary
//     state of a periodic commit (up to a second of records applied but not yet committed when a
//     process stopped): reading them again is what happened before and changes nothing. Skipping
//     forward to the database's offset would save that second but trust the database over Kafka
//     where they may not share a history (topics recreated, a broker rebuilt empty, a cluster
//     restored): the records skipped there would be lost to the read model for good;
//   - no committed offset for the group (a new group, or its offsets expired): it starts from
//     the start of the log (every read model reads from the beginning), never ahead of the database.
//
// Only for read models, whose applying twice changes nothing. The runners' delivery groups
// (lgsp-connector-*) never use this: rewinding them would deliver again.
import type { Admin, Kafka } from 'kafkajs';
import type { Queryable } from './database.js';
import type { Logger } from './logger.js';
import { partitionKey as key, readModelOffsets, seedReadModelOffsets, type PartitionOffset } from './read-model-offsets.js';

/** A partition read again from the database's offset after a restore. */
export interface CatchUp {
  topic: string;
  partition: number;
  /** Where reading starts again: the database's offset, or the start of the log when retention deleted records after it. */
  from: string;
  /** The group's committed offset (where it would have read on). */
  committed: string;
  /** Records read again: committed - from. */
  records: number;
  /** Records after the database's offset that retention had already deleted (never applied). */
  lostToRetention: number;
}

export interface StoredOffsets {
  /** The read model's database: its rows of read_model_offsets are the consumer group's (read-model-offsets.ts). */
  db: Queryable;
  /** Each partition sought back (a metric of the service). */
  onCatchUp?(catchUp: CatchUp): void;
}


/**
 * The assigned partitions the database is behind on: where each is read from again, given the
 * group's committed offsets (negative or absent: none) and the logs' start offsets. A partition
 * without a stored row counts as offset 0 (see above: the group's rows were seeded first).
 */
export function catchUpsFor(
  assigned: Readonly<Record<string, readonly number[]>>,
  stored: readonly PartitionOffset[],
  committed: ReadonlyMap<string, string>,
  logStart: ReadonlyMap<string, string> = new Map(),
): CatchUp[] {
  const storedOf = new Map(stored.map((s) => [key(s.topic, s.partition), BigInt(s.nextOffset)]));
  const catchUps: CatchUp[] = [];
  for (const [topic, partitions] of Object.entries(assigned)) {
    for (const partition of partitions) {
      const k = key(topic, partition);
      const db = storedOf.get(k) ?? 0n;
      const group = committed.get(k);
      if (group === undefined || BigInt(group) < 0n || db >= BigInt(group)) continue;
      const start = BigInt(logStart.get(k) ?? '0');
      const from = db < start ? start : db;
      if (from >= BigInt(group)) continue; // everything the database lacks is gone from the log too
      catchUps.push({ topic, partition, from: from.toString(), committed: group, records: Number(BigInt(group) - from), lostToRetention: Number(from - db) });
    }
  }
  return catchUps;
}

/** The group's committed offsets of `topics` ('-1': none), by partition key. */
async function committedOffsets(admin: Admin, groupId: string, topics: string[]): Promise<Map<string, string>> {
  const committed = new Map<string, string>();
  for (const t of await admin.fetchOffsets({ groupId, topics })) {
    for (const p of t.partitions) committed.set(key(t.topic, p.partition), p.offset);
  }
  return committed;
}

/** The start of each partition's log of `topics`, by partition key. */
async function logStarts(admin: Admin, topics: Iterable<string>): Promise<Map<string, string>> {
  const starts = new Map<string, string>();
  for (const topic of new Set(topics)) {
    for (const p of await admin.fetchTopicOffsets(topic)) starts.set(key(topic, p.partition), p.low);
  }
  return starts;
}

/**
 * Compares the database's offsets with the group's for the partitions just assigned and seeks
 * back those the database is behind on; on the group's first start stores its offsets instead.
 * Costs one database read per assignment and two Kafka look-ups (committed offsets; the logs'
 * starts only where the database is behind or on the first start).
 */
export async function catchUpAfterRestore(opts: {
  kafka: Kafka;
  groupId: string;
  /** Every topic the consumer subscribes to (the first start stores all their partitions). */
  topics: readonly string[];
  assigned: Readonly<Record<string, readonly number[]>>;
  stored: StoredOffsets;
  seek(topic: string, partition: number, offset: string): void;
  log: Logger;
}): Promise<CatchUp[]> {
  const stored = await readModelOffsets(opts.stored.db, opts.groupId);
  const admin = opts.kafka.admin();
  await admin.connect();
  try {
    if (stored.length === 0) {
      const committed = await committedOffsets(admin, opts.groupId, [...opts.topics]);
      const starts = await logStarts(admin, opts.topics);
      const seeds = [...starts].map(([k, start]) => {
        const [topic, partition] = k.split('\u0000');
        const group = committed.get(k);
        return { topic, partition: Number(partition), nextOffset: group !== undefined && BigInt(group) >= 0n ? group : start };
      });
      await seedReadModelOffsets(opts.stored.db, opts.groupId, seeds);
      opts.log.info({ groupId: opts.groupId, partitions: seeds.length }, 'no read-model offsets stored yet: the group\'s offsets are the starting point');
      return [];
    }
    const committed = await committedOffsets(admin, opts.groupId, Object.keys(opts.assigned));
    // The logs' starts only where the database is behind (a restore): the ordinary join reads none.
    const behind = catchUpsFor(opts.assigned, stored, committed);
    if (behind.length === 0) return [];
    const catchUps = catchUpsFor(opts.assigned, stored, committed, await logStarts(admin, behind.map((c) => c.topic)));
    for (const c of catchUps) {
      opts.seek(c.topic, c.partition, c.from);
      opts.log.warn(
        { groupId: opts.groupId, topic: c.topic, partition: c.partition, from: c.from, committed: c.committed, records: c.records, lostToRetention: c.lostToRetention },
        `the database is behind the consumer group on this partition (restored from an older copy): reading ${c.records} records again from offset ${c.from}` +
          (c.lostToRetention > 0 ? `; ${c.lostToRetention} records after the database's offset were already deleted by the topic's retention and cannot be applied` : ''),
      );
      opts.stored.onCatchUp?.(c);
    }
    return catchUps;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
