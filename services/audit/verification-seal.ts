// Seals of full verifications: what lets the integrity check of a long chain start where the
// last full pass ended instead of at entry 1 (chain-verifier.ts; the table is
// 20261207000400_audit-verification-seals.sql).
//
// A seal says "entries 1..seq were verified in full and found intact, entry seq's hash was `hash`,
// the stored checkpoints up to row `checkpointId` and those published on Kafka before offset
// `publishedOffset` matched", signed with the audit's checkpoint key. Whoever can write to the database cannot make one (no key), and what they can
// do to the entries it covers shows without re-reading them:
// - rewriting an entry and re-hashing the chain after it changes entry seq's hash;
// - deleting entries leaves fewer than seq rows up to seq;
// - editing an entry in place, its hash kept, is what only a full pass sees: the audit service
//   runs one on a timer (LGSP_AUDIT_FULL_VERIFY_INTERVAL_MS) and `lgsp audit verify` always does.
import { CompactSign, type JWTVerifyGetKey } from 'jose';
import { signedClaims } from './signed-claims.js';
import type { SigningKey } from '../platform/keystore.js';
import type { Queryable } from '../platform/database.js';

export const SEAL_JWS_TYPE = 'lgsp-audit-seal+jws';

export interface SealClaims {
  seq: number;
  hash: string;
  checkpointId: number;
  /** The checkpoint topic's offset the sealed pass read up to (its only partition). */
  publishedOffset: string;
  at: string;
}

export interface SealRow {
  id: number;
  seq: number;
  hash: string;
  checkpoint_id: number;
  published_offset: string;
  signed_at: string;
  jws: string;
}

function sealPayload(claims: SealClaims): string {
  return JSON.stringify({ seq: claims.seq, hash: claims.hash, checkpointId: claims.checkpointId, publishedOffset: claims.publishedOffset, at: claims.at });
}

/** Signs and stores a seal of a full pass that found entries 1..seq intact. */
export async function writeSeal(db: Queryable, key: SigningKey, reached: Omit<SealClaims, 'at'>): Promise<SealClaims> {
  const claims = { ...reached, at: new Date().toISOString() };
  const jws = await new CompactSign(new TextEncoder().encode(sealPayload(claims)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: SEAL_JWS_TYPE })
    .sign(key.key);
  await db.query('INSERT INTO audit_seals (seq, hash, checkpoint_id, published_offset, signed_at, jws) VALUES ($1, $2, $3, $4, $5, $6)', [claims.seq, claims.hash, claims.checkpointId, claims.publishedOffset, claims.at, jws]);
  return claims;
}

const SEAL_COLUMNS = 'id, seq, hash, checkpoint_id, published_offset, signed_at, jws';

/** bigint columns arrive as text unless the process set pg's int8 parser: numbers either way. */
function toSealRow(r: SealRow): SealRow {
  return { ...r, id: Number(r.id), seq: Number(r.seq), checkpoint_id: Number(r.checkpoint_id) };
}

/** Rows of audit_seals after `afterId`, oldest first, at most `limit`. */
export async function sealRows(db: Queryable, afterId: number, limit: number): Promise<SealRow[]> {
  const { rows } = await db.query<SealRow>(`SELECT ${SEAL_COLUMNS} FROM audit_seals WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
  return rows.map(toSealRow);
}

/** The seal written last, or null. */
export async function lastSealRow(db: Queryable): Promise<SealRow | null> {
  const { rows } = await db.query<SealRow>(`SELECT ${SEAL_COLUMNS} FROM audit_seals ORDER BY id DESC LIMIT 1`);
  return rows[0] ? toSealRow(rows[0]) : null;
}

/** Why a seal row is not a seal the platform signed, or null. */
export async function sealProblem(row: SealRow, getKey: JWTVerifyGetKey): Promise<string | null> {
  const signed = await signedClaims<SealClaims>(row.jws, getKey, SEAL_JWS_TYPE, 'seal');
  if ('problem' in signed) return signed.problem;
  const { claims } = signed;
  if (claims.seq !== row.seq || claims.hash !== row.hash || claims.checkpointId !== row.checkpoint_id || claims.publishedOffset !== row.published_offset || claims.at !== row.signed_at) {
    return 'seal row does not match its signed payload';
  }
  return null;
}
