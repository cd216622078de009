// Which registry entry an access token was issued for. A token names its client by id, but an id
// can leave the registry and come back as another entry: under another member, with another key
// or secret (a compromised system re-registered, an id reused by another agency). Checking only
// that the id exists took the old entry's tokens as the new entry's until they expired.
//
// The token endpoint puts a fingerprint of the member and of the one credential the client
// authenticated with (the JWK thumbprint of the key that signed its assertion, or its secret
// hash) in the token (`lgsp_entry`); every service compares it with the fingerprints of the
// client's entry in the registry in use. Per credential, not per entry: adding a second key to
// rotate keeps the tokens of the first working, removing a key or replacing the secret refuses
// the tokens it obtained at once. The fingerprints of an entry are computed once per registry
// (memoised on the entry object, which a registry never changes), so a bearer check stays a Map
// lookup and a Set lookup, without I/O. An entry with the same member and the same credential
// is the same client: a token of it is taken again (its holder could get one anyway).
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';

/** The claim of an access token naming the registry entry it was issued for. */
export const ENTRY_CLAIM = 'lgsp_entry';

/** A credential as a fingerprint names it: `jwk:<RFC 7638 thumbprint>` or `secret:<secret hash>`. */
export type Credential = `jwk:${string}` | `secret:${string}`;

/** The RFC 7638 members of each key type; another type's public members all, sorted. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/** RFC 7638 JWK thumbprint (SHA-256, base64url), computed synchronously. */
export function jwkThumbprint(jwk: JWK): string {
  const members = THUMBPRINT_MEMBERS[String(jwk.kty)] ?? Object.keys(jwk).filter((m) => !['kid', 'alg', 'use', 'key_ops', 'x5c', 'x5t', 'x5t#S256', 'x5u'].includes(m)).sort();
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, (jwk as Record<string, unknown>)[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

export function jwkCredential(jwk: JWK): Credential {
  return `jwk:${jwkThumbprint(jwk)}`;
}

export function secretCredential(secretHash: string): Credential {
  return `secret:${secretHash}`;
}

/** The fingerprint a token carries: member and credential, hashed (a secret hash is not put in a token). */
export function entryFingerprint(member: string, credential: Credential): string {
  return createHash('sha256').update(`${member}\u0000${credential}`).digest('base64url');
}

/** The parts of a registry entry a fingerprint is made of (a refused file's entries are read as loosely). */
export interface EntryCredentials {
  member?: unknown;
  auth?: { jwks?: { keys?: unknown }; secretHash?: unknown } | null;
}

const memo = new WeakMap<object, ReadonlySet<string>>();

/** The fingerprints a token of this entry may carry: one per registered key, one for its secret. */
export function entryFingerprints(entry: EntryCredentials): ReadonlySet<string> {
  let known = memo.get(entry);
  if (known) return known;
  const fingerprints = new Set<string>();
  if (typeof entry.member === 'string') {
    const keys = entry.auth?.jwks?.keys;
    if (Array.isArray(keys)) {
      for (const key of keys) if (key && typeof key === 'object') fingerprints.add(entryFingerprint(entry.member, jwkCredential(key as JWK)));
    }
    const secretHash = entry.auth?.secretHash;
    if (typeof secretHash === 'string' && secretHash !== '') fingerprints.add(entryFingerprint(entry.member, secretCredential(secretHash)));
  }
  known = fingerprints;
  memo.set(entry, known);
  return known;
}

/** Why a token bound to `fingerprint` is not taken for this entry, or null when it is. */
export function entryMismatch(clientId: string, entry: EntryCredentials, fingerprint: string | undefined): string | null {
  if (fingerprint !== undefined && entryFingerprints(entry).has(fingerprint)) return null;
  return `the token was issued for an entry of client ${clientId} that is no longer in the registry (its member, key or secret changed since, or it was removed and added again); get a new token`;
}
