// Verifies the audit tables on their own (`lgsp audit verify`, GET /v1/audit/integrity):
// recomputes every entry hash in seq order and checks every signed checkpoint against the
// chain. It reads one consistent snapshot (a REPEATABLE READ, READ ONLY transaction), so it can
// run next to a live audit service, and reads in chunks so a long chain never sits in memory.
//
// What each kind of tampering looks like from here:
// - an edited entry: its recomputed hash differs from the stored one;
// - an edited entry with the chain recomputed after it: the entry no longer matches the bus
//   record's signature it keeps (record-evidence.ts), checked with public keys only;
// - a deleted entry: a gap in seq (or, if later entries were renumbered, a prev_hash mismatch);
// - reordered entries: prev_hash no longer names the entry before;
// - a deleted tail: a checkpoint signs a seq beyond the last entry;
// - a re-hashed chain: a checkpoint's hash differs from the stored hash at its seq;
// - a forged or edited checkpoint: its JWS does not verify or does not match its row.
// Deleting the tail together with every checkpoint that covers it leaves no trace in the
// database itself; only a checkpoint kept elsewhere (the Kafka checkpoint topic) shows that.
//
// A long chain (more entries than `fullUpTo`) is checked from the last seal of a full pass that
// still holds (verification-seal.ts): the entries, checkpoints and published checkpoints after it,
// so the check's time follows what was appended since, not the whole log.
import type pg from 'pg';
import type { JWTVerifyGetKey } from 'jose';
import {
  CHECKPOINT_JWS_TYPE,
  GENESIS_HASH,
  auditEventProblem,
  entryHash,
  indexedColumns,
  type CheckpointClaims,
} from './audit-store.js';
import type { BusEvent } from '../platform/bus-events.js';
import { canonicalJson } from '../platform/canonical-json.js';
import type { PublicKeyLookup } from '../platform/es256.js';
import type { RecordVerifier } from '../platform/record-signing.js';
import { evidenceProblem, evidenceVerifier, type EvidencedEvent } from './record-evidence.js';
import { lastSealRow, sealProblem, sealRows, type SealClaims, type SealRow } from './verification-seal.js';
import { signedClaims } from './signed-claims.js';

export interface ChainVerification {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** Highest seq covered by a checkpoint (0 when none): later entries are chained but not yet signed. */
  signedThrough: number;
  /**
   * Checkpoints read from the Kafka checkpoint topic and checked against the chain, when given;
   * `sealed`: those within the seal the check started from, not checked again.
   */
  published?: { checked: number; ignored: number; sealed?: number };
  /** Why the checkpoints published on Kafka could not be read (the database was checked alone). */
  publishedUnreadable?: string;
  firstBad?: { seq: number; reason: string };
  /**
   * `full`: every entry was verified; `since-seal`: the entries after `sealed.seq`, the chain
   * before it standing on the seal of the full pass made at `sealed.at` (verification-seal.ts).
   */
  scope: 'full' | 'since-seal';
  sealed?: { seq: number; at: string };
}

/** Where a full pass ended: what a seal of it says of the database. */
export type PassEnd = Pick<SealClaims, 'seq' | 'hash' | 'checkpointId'>;

export interface VerifyOptions {
  /** Chains of more entries than this are verified from a seal that holds. Without it: always in full. */
  fullUpTo?: number;
  /**
   * The seal to start from (the caller read the published checkpoints after its offset); without
   * it the last one written. Either must still hold, or the chain is read in full.
   */
  seal?: SealRow;
  /** Called after a full pass that found the chain intact, with where it ended (what a seal may say). */
  onIntact?: (reached: PassEnd) => Promise<void>;
}

interface EntryRow {
  seq: number;
  event_id: string;
  message_id: string | null;
  event: string;
  type: string | null;
  from_member: string | null;
  to_member: string | null;
  actor: string | null;
  at: string;
  recorded_at: string;
  body: string;
  prev_hash: string;
  hash: string;
}

interface CheckpointRow {
  id: number;
  seq: number;
  hash: string;
  signed_at: string;
  jws: string;
}

const CHUNK = 5000;

/**
 * How long the check of a chunk holds the event loop before it gives it a turn. An entry with
 * record evidence costs a signature and proof check (0.1-0.3 ms on 2 vCPUs, several ms on a
 * starved one), so a chunk checked in one go held the audit service's event loop for 1-2.5 s
 * (measured on a soak's 76,000-entry chain): its /healthz, /readyz, queries and consumer waited
 * that long, once per chunk, for the whole pass (every integrity check below
 * LGSP_AUDIT_FULL_VERIFY_MAX_ENTRIES reads every entry).
 */
const TURN_MS = 20;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Why an entry's own content is inconsistent, or null. Links to neighbours are checked by the caller. */
function entryProblem(row: EntryRow, records: RecordVerifier): string | null {
  const recomputed = entryHash(row.prev_hash, { seq: row.seq, eventId: row.event_id, at: row.at, recordedAt: row.recorded_at, body: row.body });
  if (recomputed !== row.hash) return 'hash mismatch: the entry was edited after it was recorded';
  let event: BusEvent;
  try {
    event = JSON.parse(row.body) as BusEvent;
  } catch {
    return 'body is not valid JSON';
  }
  const invalid = auditEventProblem(event);
  if (invalid) return `body is not a valid audit event: ${invalid}`;
  if (canonicalJson(event) !== row.body) return 'body is not in canonical form';
  if (event.id !== row.event_id) return 'event_id column does not match the body';
  const expected = indexedColumns(event);
  const actual = {
    messageId: row.message_id,
    event: row.event,
    type: row.type,
    fromMember: row.from_member,
    toMember: row.to_member,
    actor: row.actor,
    at: row.at,
  };
  for (const [name, value] of Object.entries(expected)) {
    if (actual[name as keyof typeof actual] !== value) return `indexed column ${name} does not match the body`;
  }
  // The hash chain can be recomputed by whoever rewrites the table; the record's own signature cannot.
  return evidenceProblem(event as EvidencedEvent, records, (a, b) => canonicalJson(a) === canonicalJson(b));
}

async function checkpointProblem(row: CheckpointRow, getKey: JWTVerifyGetKey): Promise<string | null> {
  const signed = await signedClaims<CheckpointClaims>(row.jws, getKey, CHECKPOINT_JWS_TYPE, 'checkpoint');
  if ('problem' in signed) return signed.problem;
  const { claims } = signed;
  if (claims.seq !== row.seq || claims.hash !== row.hash || claims.at !== row.signed_at) {
    return 'checkpoint row does not match its signed payload';
  }
  return null;
}

/** The claims of a checkpoint JWS that verifies with a platform key, else null. */
async function verifiedClaims(jws: string, getKey: JWTVerifyGetKey): Promise<CheckpointClaims | null> {
  const signed = await signedClaims<CheckpointClaims>(jws, getKey, CHECKPOINT_JWS_TYPE, 'checkpoint');
  if ('problem' in signed) return null;
  const { claims } = signed;
  return Number.isInteger(claims.seq) && typeof claims.hash === 'string' && typeof claims.at === 'string' ? claims : null;
}

/**
 * Verifies the chain in the database `pool` connects to (one connection, one snapshot).
 * `published`: checkpoint JWSs kept outside the database (the Kafka checkpoint topic); each
 * one that verifies is checked against the chain like a stored checkpoint, so a tail deleted
 * together with its stored checkpoints is still found. Ones that do not verify are ignored
 * (counted): anyone able to write to the topic could put junk there.
 */
export async function verifyAuditChain(pool: pg.Pool, getKey: JWTVerifyGetKey, recordKeys: PublicKeyLookup, published?: string[], opts: VerifyOptions = {}): Promise<ChainVerification> {
  const client = await pool.connect();
  let result: ChainVerification;
  let reached: PassEnd | undefined;
  try {
    // One snapshot: checkpoints written by a live service while we read must not look like
    // they point past the end of the chain.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      ({ result, reached } = await verifySnapshot(client, getKey, evidenceVerifier(recordKeys), published, opts));
    } finally {
      await client.query('COMMIT').catch(() => undefined);
    }
  } finally {
    client.release();
  }
  if (result.ok && result.scope === 'full' && reached && reached.seq > 0) await opts.onIntact?.(reached);
  return result;
}

/** Where a check starts: the genesis, or the end of a sealed full pass. */
interface Start {
  seq: number;
  hash: string;
  checkpointId: number;
  seal?: { seq: number; at: string };
}

const GENESIS: Start = { seq: 0, hash: GENESIS_HASH, checkpointId: 0 };

/**
 * The last seal, when it still holds for the chain in this snapshot: signed by a platform key,
 * entry seq still has the sealed hash (nothing before it re-hashed), and seq rows up to it
 * (none deleted). Otherwise null, and the check runs in full, which names what is wrong.
 */
async function standingSeal(client: pg.PoolClient, getKey: JWTVerifyGetKey, chosen?: SealRow): Promise<Start | null> {
  const row = chosen ?? (await lastSealRow(client));
  if (!row || (await sealProblem(row, getKey))) return null;
  const { rows } = await client.query<{ hash: string | null; n: string }>(
    'SELECT (SELECT hash FROM audit_entries WHERE seq = $1) AS hash, (SELECT count(*) FROM audit_entries WHERE seq <= $1) AS n',
    [row.seq],
  );
  if (rows[0].hash !== row.hash || Number(rows[0].n) !== row.seq) return null;
  return { seq: row.seq, hash: row.hash, checkpointId: row.checkpoint_id, seal: { seq: row.seq, at: row.signed_at } };
}

/** A JWS's payload claims without checking its signature: only to skip what a seal already covers. */
function unverifiedSeq(jws: string): number | undefined {
  try {
    const seq = (JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

async function verifySnapshot(client: pg.PoolClient, getKey: JWTVerifyGetKey, records: RecordVerifier, published: string[] | undefined, opts: VerifyOptions): Promise<{ result: ChainVerification; reached?: PassEnd }> {
  const entriesAfter = async (seq: number) =>
    (await client.query<EntryRow>(`SELECT * FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT ${CHUNK}`, [seq])).rows
      // bigint arrives as text unless the process set pg's int8 parser: numbers either way.
      .map((r) => ({ ...r, seq: Number(r.seq) }));
  const entryHashAt = async (seq: number) =>
    (await client.query<{ hash: string }>('SELECT hash FROM audit_entries WHERE seq = $1', [seq])).rows[0];
  const checkpointsAfter = async (id: number) =>
    (await client.query<CheckpointRow>(`SELECT id, seq, hash, signed_at, jws FROM audit_checkpoints WHERE id > $1 ORDER BY id LIMIT ${CHUNK}`, [id])).rows
      .map((r) => ({ ...r, id: Number(r.id), seq: Number(r.seq) }));

  let start = GENESIS;
  if (opts.fullUpTo !== undefined) {
    const { rows } = await client.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM audit_entries');
    if (Number(rows[0].seq ?? 0) > opts.fullUpTo) start = (await standingSeal(client, getKey, opts.seal)) ?? GENESIS;
  }

  let chainBad: { seq: number; reason: string } | undefined;
  let entries = start.seq;
  let lastSeq = start.seq;
  let prevHash = start.hash;
  let turnStarted = 0;
  for (;;) {
    const rows = await entriesAfter(lastSeq);
    turnStarted = performance.now();
    for (const row of rows) {
      if (performance.now() - turnStarted > TURN_MS) {
        await nextTurn();
        turnStarted = performance.now();
      }
      entries++;
      if (!chainBad) {
        const expectedSeq = lastSeq + 1;
        if (row.seq !== expectedSeq) {
          chainBad = {
            seq: expectedSeq,
            reason: row.seq === expectedSeq + 1 ? 'entry is missing (deleted)' : `entries ${expectedSeq}..${row.seq - 1} are missing (deleted)`,
          };
        } else if (row.prev_hash !== prevHash) {
          chainBad = {
            seq: row.seq,
            reason: row.seq === 1 ? 'prev_hash is not the genesis hash' : `prev_hash does not match the hash of entry ${row.seq - 1} (entries deleted, reordered or replaced)`,
          };
        } else {
          const problem = entryProblem(row, records);
          if (problem) chainBad = { seq: row.seq, reason: problem };
        }
      }
      lastSeq = row.seq;
      prevHash = row.hash;
    }
    if (rows.length < CHUNK) break;
  }

  // Checkpoints in the order they were written; the last one that matched bounds where a
  // rewrite of the chain can have started. Those a seal covers matched in its full pass.
  let checkpointBad: { seq: number; reason: string } | undefined;
  let checkpoints = 0;
  let signedThrough = 0;
  let lastId = start.checkpointId;
  if (start.seal) {
    const { rows } = await client.query<{ n: string; seq: string | null }>('SELECT count(*) AS n, max(seq) AS seq FROM audit_checkpoints WHERE id <= $1', [start.checkpointId]);
    checkpoints = Number(rows[0].n);
    signedThrough = Math.min(Number(rows[0].seq ?? 0), start.seq);
  }
  for (;;) {
    const rows = await checkpointsAfter(lastId);
    for (const cp of rows) {
      checkpoints++;
      lastId = cp.id;
      if (checkpointBad) continue;
      const forged = await checkpointProblem(cp, getKey);
      if (forged) {
        // A row naming a seq past the chain's end names no entry: the report points at the end
        // of the chain and says what the row claims, instead of "first bad entry seq 999999".
        checkpointBad = cp.seq > lastSeq
          ? { seq: lastSeq + 1, reason: `${forged}: checkpoint row ${cp.id} claims to cover seq ${cp.seq}, beyond the chain's end at ${lastSeq} (checkpoint signed at ${cp.signed_at})` }
          : { seq: cp.seq, reason: `${forged} (checkpoint signed at ${cp.signed_at})` };
        continue;
      }
      if (cp.seq > lastSeq) {
        checkpointBad = {
          seq: lastSeq + 1,
          reason: `entries ${lastSeq + 1}..${cp.seq} are missing: the checkpoint signed at ${cp.signed_at} covers seq ${cp.seq} but the chain ends at ${lastSeq} (tail deleted)`,
        };
        continue;
      }
      const stored = await entryHashAt(cp.seq);
      if (!stored) {
        checkpointBad = { seq: cp.seq, reason: `entry is missing but the checkpoint signed at ${cp.signed_at} covers it` };
      } else if (stored.hash !== cp.hash) {
        checkpointBad = {
          seq: cp.seq,
          reason: `hash differs from the checkpoint signed at ${cp.signed_at}: entries ${Math.min(signedThrough + 1, cp.seq)}..${cp.seq} were rewritten`,
        };
      } else {
        signedThrough = Math.max(signedThrough, cp.seq);
      }
    }
    if (rows.length < CHUNK) break;
  }

  let publishedBad: { seq: number; reason: string } | undefined;
  const disagreeing: CheckpointClaims[] = [];
  let checked = 0;
  let ignored = 0;
  let sealed = 0;
  for (const jws of published ?? []) {
    // Within the seal: the full pass behind it checked it, and entry seq's hash still stands.
    // Read unverified (a forged one is then just not looked at), which spares a signature check
    // per checkpoint of the whole log.
    const claimedSeq = start.seal ? unverifiedSeq(jws) : undefined;
    if (claimedSeq !== undefined && claimedSeq <= start.seq) {
      sealed++;
      continue;
    }
    const claims = await verifiedClaims(jws, getKey);
    if (!claims) {
      ignored++;
      continue;
    }
    checked++;
    if (claims.seq > lastSeq) {
      publishedBad ??= {
        seq: lastSeq + 1,
        reason: `entries ${lastSeq + 1}..${claims.seq} are missing: the checkpoint signed at ${claims.at} and published on Kafka covers seq ${claims.seq} but the chain ends at ${lastSeq} (tail cut, its stored checkpoints removed)`,
      };
      disagreeing.push(claims);
      continue;
    }
    const stored = await entryHashAt(claims.seq);
    if (!stored || stored.hash !== claims.hash) {
      publishedBad ??= { seq: claims.seq, reason: `hash differs from the checkpoint signed at ${claims.at} and published on Kafka: the chain up to ${claims.seq} was rewritten` };
      disagreeing.push(claims);
    } else if (!publishedBad) {
      signedThrough = Math.max(signedThrough, claims.seq);
    }
  }
  if (publishedBad) {
    // A restore from a copy older than what the bus published looks the same (README, "Backup
    // and restore"): said, with how far the published copies reach, so that an operator who
    // restored knows what the report is about and how much of the chain the copy lacks.
    const furthest = disagreeing.reduce((a, b) => (b.seq > a.seq ? b : a));
    publishedBad.reason +=
      `; or the database was restored from a copy older than that checkpoint (README, "Backup and restore"): ` +
      `${disagreeing.length} checkpoint${disagreeing.length === 1 ? '' : 's'} published on Kafka disagree${disagreeing.length === 1 ? 's' : ''} with the chain, the furthest covering seq ${furthest.seq}, signed at ${furthest.at}`;
  }

  // A full pass checks the seals too: a forged seal row, or one the chain no longer matches, is
  // tampering with the audit tables like a forged checkpoint.
  let sealBad: { seq: number; reason: string } | undefined;
  if (!start.seal) {
    for (let afterId = 0; ;) {
      const rows = await sealRows(client, afterId, CHUNK);
      for (const row of rows) {
        afterId = row.id;
        if (!sealBad) sealBad = await sealRowProblem(row, getKey, lastSeq, entryHashAt);
      }
      if (rows.length < CHUNK) break;
    }
  }

  const firstBad = [chainBad, checkpointBad, publishedBad, sealBad].filter((b) => b !== undefined).sort((a, b) => a.seq - b.seq)[0];
  const result: ChainVerification = {
    ok: !firstBad,
    entries,
    checkpoints,
    signedThrough,
    ...(published ? { published: { checked, ignored, ...(start.seal ? { sealed } : {}) } } : {}),
    ...(firstBad ? { firstBad } : {}),
    scope: start.seal ? 'since-seal' : 'full',
    ...(start.seal ? { sealed: start.seal } : {}),
  };
  return { result, reached: { seq: lastSeq, hash: prevHash, checkpointId: lastId } };
}

async function sealRowProblem(row: SealRow, getKey: JWTVerifyGetKey, lastSeq: number, entryHashAt: (seq: number) => Promise<{ hash: string } | undefined>): Promise<{ seq: number; reason: string } | undefined> {
  const forged = await sealProblem(row, getKey);
  if (forged) return { seq: Math.min(row.seq, lastSeq + 1), reason: `${forged}: seal row ${row.id} (signed at ${row.signed_at})` };
  if (row.seq > lastSeq) return { seq: lastSeq + 1, reason: `entries ${lastSeq + 1}..${row.seq} are missing: the full verification sealed at ${row.signed_at} reached seq ${row.seq} but the chain ends at ${lastSeq} (tail deleted)` };
  const stored = await entryHashAt(row.seq);
  if (!stored || stored.hash !== row.hash) return { seq: row.seq, reason: `hash differs from the full verification sealed at ${row.signed_at}: the chain up to ${row.seq} was rewritten` };
  return undefined;
}
