// Detached-payload JWS (RFC 7515 Appendix F) over an HTTP body: how the platform signs bodies
// that are not a JSON envelope — an edXML document pushed to a QLVB, or an inbox item — so the
// receiver can check the exact bytes it got against /.well-known/jwks.json. The signature
// travels in the LGSP-Signature header as `<protected>..<signature>`.
import { compactVerify, base64url, type JWTVerifyGetKey } from 'jose';
import { signCompactBytes } from './es256.js';
import type { SigningKey } from './keystore.js';

export const SIGNATURE_HTTP_HEADER = 'lgsp-signature';
export const DETACHED_JWS_TYPE = 'lgsp-delivery+jws';

/** `bytes` as a Buffer over the same memory (no copy). */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function signDetached(body: Uint8Array, key: SigningKey, contentType: string, claims: { iat?: number; aud?: string; svc?: string } = {}): string {
  // The body as it is (a view, not a copy: an edXML document may be megabytes), and the JWS's
  // outer parts read from its bytes without making the whole of it a string.
  const jws = signCompactBytes(bufferView(body), { alg: 'ES256', kid: key.kid, typ: DETACHED_JWS_TYPE, cty: contentType, ...claims }, key.keyObject);
  const protectedHeader = jws.toString('latin1', 0, jws.indexOf(0x2e));
  const signature = jws.toString('latin1', jws.lastIndexOf(0x2e) + 1);
  return `${protectedHeader}..${signature}`;
}

/** What a verified detached signature says: the body's type, and whom and when it was signed for (signed-delivery.ts deliveryClaims). */
export interface DetachedClaims {
  contentType?: string;
  aud?: unknown;
  svc?: unknown;
  iat?: unknown;
}

/** Throws unless `detached` is a platform signature over exactly `body`. */
export async function verifyDetached(body: Uint8Array, detached: string, getKey: JWTVerifyGetKey): Promise<DetachedClaims> {
  const parts = detached.split('.');
  if (parts.length !== 3 || parts[1] !== '') throw new Error('not a detached JWS');
  const { protectedHeader } = await compactVerify(`${parts[0]}.${base64url.encode(body)}.${parts[2]}`, getKey, { algorithms: ['ES256'] });
  if (protectedHeader.typ !== DETACHED_JWS_TYPE) throw new Error('unexpected JWS type');
  const { cty, aud, svc, iat } = protectedHeader as { cty?: string; aud?: unknown; svc?: unknown; iat?: unknown };
  return { contentType: cty, ...(aud !== undefined ? { aud } : {}), ...(svc !== undefined ? { svc } : {}), ...(iat !== undefined ? { iat } : {}) };
}
