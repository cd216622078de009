// The verification keys `lgsp audit verify` uses: public keys only (a JWKS, e.g. saved from a
// gateway's /.well-known/jwks.json, or the public half of the platform keys file), for the
// checkpoint JWSs (jose) and for the bus records' batch signatures (node:crypto).
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { PublicKeyLookup } from '../platform/es256.js';

export interface PublicKeys {
  checkpoints: JWTVerifyGetKey;
  records: PublicKeyLookup;
}

/** Throws when the set holds no usable public key, or a private one (never hand a verifier private keys). */
export function publicKeysFrom(jwks: JSONWebKeySet): PublicKeys {
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error('the key set holds no keys');
  const byKid = new Map<string, KeyObject>();
  for (const key of jwks.keys) {
    // A JWK with `d`, or an entry of the platform keys file, holds private key material.
    if ('d' in key || 'privateJwk' in key) throw new Error(`key ${String(key.kid)} is a private key: pass public keys only`);
    if (typeof key.kty !== 'string') throw new Error(`key ${String(key.kid)} is not a JWK`);
    if (typeof key.kid === 'string') byKid.set(key.kid, createPublicKey({ key: key as JsonWebKey, format: 'jwk' }));
  }
  return { checkpoints: createLocalJWKSet(jwks), records: (kid) => byKid.get(kid) };
}
