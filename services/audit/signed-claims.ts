// The claims of a JWS the audit service signed with its checkpoint key (checkpoints, seals of
// full verifications): verified with a platform key, of the expected `typ`, a JSON payload.
// One check for both, each saying what is wrong in its own noun.
import { compactVerify, type JWTVerifyGetKey } from 'jose';

/** The payload's claims, or why `jws` is not a `typ` the platform signed (`noun` names it: "checkpoint", "seal"). */
export async function signedClaims<T>(jws: string, getKey: JWTVerifyGetKey, typ: string, noun: string): Promise<{ claims: T } | { problem: string }> {
  let payload: Uint8Array;
  try {
    const verified = await compactVerify(jws, getKey, { algorithms: ['ES256'] });
    if (verified.protectedHeader.typ !== typ) return { problem: `${noun} JWS has type ${String(verified.protectedHeader.typ)}` };
    payload = verified.payload;
  } catch (err) {
    return { problem: `${noun} signature does not verify (${(err as Error).message})` };
  }
  try {
    return { claims: JSON.parse(new TextDecoder().decode(payload)) as T };
  } catch {
    return { problem: `${noun} payload is not JSON` };
  }
}
