// The read models' consumed offsets, kept in PostgreSQL with the rows they produced (table
// read_model_offsets, migration *_read-model-offsets.sql), as a Kafka Connect sink keeps its own.
// The ledger, the audit and the console's dead-letter index write, in the transaction of a
// batch's rows, the next offset of each partition the batch applied: one statement per batch
// whatever its size (one JSON parameter, like the audit's chain insert), or none when it rides in
// the batch's own statement (the audit's fast path: OFFSETS_UPSERT_CTE). A database restored from
// an older dump then says how far it had really applied, and the consumer seeks back there when
// its partitions are assigned (restore-catch-up.ts).
import type { Queryable } from './database.js';
import { prepared } from './prepared-statement.js';

/** The next offset to apply of one partition (Kafka's committed-offset convention: last applied + 1). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  nextOffset: string;
}

/** One partition's key in maps of offsets (a topic name holds no NUL). */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** The next offset of the partition of `records` (one partition's batch, in offset order); none for an empty batch. */
export function batchOffsets(records: ReadonlyArray<{ topic: string; partition: number; offset: string }>): PartitionOffset[] {
  const last = records.at(-1);
  return last ? [{ topic: last.topic, partition: last.partition, nextOffset: (BigInt(last.offset) + 1n).toString() }] : [];
}

/**
 * The offsets of batches written together (a BatchedWriter's flush): per partition the furthest.
 * A partition's batches arrive in order, so that is its last; the comparison keeps it so anyway.
 */
export function mergeOffsets(offsets: Iterable<PartitionOffset>): PartitionOffset[] {
  const merged = new Map<string, PartitionOffset>();
  for (const o of offsets) {
    const key = partitionKey(o.topic, o.partition);
    const seen = merged.get(key);
    if (!seen || BigInt(o.nextOffset) > BigInt(seen.nextOffset)) merged.set(key, o);
  }
  return [...merged.values()];
}

/** The offsets as the JSON parameter the statements below read (`[[topic, partition, next], ...]`). */
export function offsetsParameter(offsets: readonly PartitionOffset[]): string {
  return JSON.stringify(offsets.map((o) => [o.topic, o.partition, o.nextOffset]));
}

// Plain overwrite, not GREATEST: the row says what this consumer applied last. After the topics
// were recreated (offsets start again from 0) a GREATEST would keep the old incarnation's offsets
// for ever, and a later restore would no longer be seen. A database ahead of the group is never
// acted on (restore-catch-up.ts), so a row briefly moved back by a rebalance costs at most a
// few records read again.
const UPSERT_SELECT = `INSERT INTO read_model_offsets (consumer, topic, "partition", next_offset)
  SELECT $1, o->>0, (o->>1)::integer, (o->>2)::bigint FROM jsonb_array_elements($2::jsonb) AS o`;
const ON_CONFLICT = `ON CONFLICT (consumer, topic, "partition") DO UPDATE SET next_offset = EXCLUDED.next_offset`;
const UPSERT = prepared(`${UPSERT_SELECT} ${ON_CONFLICT}`);

/**
 * The same upsert as a data-modifying CTE named `offsets`, for a statement that writes its rows
 * and the offsets at once (atomic without a transaction). `$consumer`, `$offsets` and `$when`
 * are the placeholders of the consumer, the JSON offsets and a condition the caller's statement
 * decides (e.g. that its insert took every row).
 */
export function offsetsUpsertCte(consumer: string, offsets: string, when: string): string {
  return `offsets AS (INSERT INTO read_model_offsets (consumer, topic, "partition", next_offset)
    SELECT ${consumer}, o->>0, (o->>1)::integer, (o->>2)::bigint FROM jsonb_array_elements(${offsets}::jsonb) AS o WHERE ${when}
    ${ON_CONFLICT} RETURNING 1)`;
}

/** Writes the offsets of `consumer` (one statement; nothing for none): call it in the transaction of the rows they produced. */
export async function saveReadModelOffsets(q: Queryable, consumer: string, offsets: readonly PartitionOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  await q.query(UPSERT, [consumer, offsetsParameter(offsets)]);
}

const SEED = `${UPSERT_SELECT} ON CONFLICT (consumer, topic, "partition") DO NOTHING`;

/**
 * The starting point of a consumer that stored nothing yet (restore-catch-up.ts): rows already
 * there (another member of the group seeded or applied meanwhile) are kept.
 */
export async function seedReadModelOffsets(q: Queryable, consumer: string, offsets: readonly PartitionOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  await q.query(SEED, [consumer, offsetsParameter(offsets)]);
}

/** Every partition offset `consumer` stored. */
export async function readModelOffsets(q: Queryable, consumer: string): Promise<PartitionOffset[]> {
  const { rows } = await q.query<{ topic: string; partition: number; next_offset: string }>(
    'SELECT topic, "partition", next_offset::text AS next_offset FROM read_model_offsets WHERE consumer = $1',
    [consumer],
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, nextOffset: r.next_offset }));
}
