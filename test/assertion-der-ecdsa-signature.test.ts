// A Java vendor signing its client assertion with java.security.Signature ("SHA256withECDSA", the
// JDK's default ECDSA encoding) sends an ES256 signature DER-encoded (an ASN.1 SEQUENCE of r and
// s, 70–72 bytes) where JWS wants the 64-byte r‖s concatenation (RFC 7518 §3.4). It was refused
// 401 invalid_client "client_assertion rejected: signature verification failed", the same words
// as for a wrong key, so the vendor went looking at its key registration. The refusal now says
// that the signature is DER-encoded and what JWS expects; other failures are said as before.
import t from 'tap';
import { sign as nodeSign, createPrivateKey } from 'node:crypto';
import { SignJWT, importJWK, type CryptoKey, type JWK } from 'jose';
import { Registry } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';
import { generateSigningJwk } from '../services/platform/keystore.js';
import { AssertionReplayCache, ClientAuthenticator, OAuthError } from '../services/gateway/client-authentication.js';
import { seedRegistry } from './helpers/test-bus.js';

const ISSUER = 'https://bus.example';
const CLIENT = 'so-tp-qlvb';
const noReplays = new AssertionReplayCache({ query: async () => ({ rowCount: 1 }) } as never);

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** Header and claims as nimbus-jose-jwt writes them; the signature as java.security.Signature makes it. */
function derSignedAssertion(privateJwk: JWK, kid: string): string {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64url(JSON.stringify({ kid, alg: 'ES256' }))}.${b64url(JSON.stringify({ sub: CLIENT, aud: ISSUER, iss: CLIENT, exp: now + 120, iat: now, jti: crypto.randomUUID() }))}`;
  const der = nodeSign('sha256', Buffer.from(input, 'ascii'), { key: createPrivateKey({ key: privateJwk, format: 'jwk' }), dsaEncoding: 'der' });
  return `${input}.${der.toString('base64url')}`;
}

t.test('a DER-encoded ES256 assertion signature is refused saying so', async (t) => {
  const key = await generateSigningJwk();
  const other = await generateSigningJwk();
  const data = seedRegistry();
  data.systems.find((s) => s.clientId === CLIENT)!.auth = { jwks: { keys: [key.publicJwk] } };
  const registry = Registry.fromData(data, new SchemaCatalogue());
  const auth = new ClientAuthenticator(() => registry, [ISSUER], noReplays);
  const refusal = (clientAssertion: string): Promise<OAuthError | null> =>
    auth.authenticate({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: clientAssertion }, undefined).then(() => null, (err: unknown) => err as OAuthError);

  const der = await refusal(derSignedAssertion(key.privateJwk, key.kid));
  t.type(der, OAuthError);
  t.match(der, { error: 'invalid_client', description: /signature verification failed: the ES256 signature is \d\d bytes, DER-encoded .*64-byte r‖s .*RFC 7518 §3\.4/ });

  // The same key with the JOSE encoding gets a token: the key was never the problem.
  const good = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(CLIENT).setSubject(CLIENT).setAudience(ISSUER)
    .setIssuedAt().setExpirationTime('2m').setJti(crypto.randomUUID()).sign((await importJWK(key.privateJwk, 'ES256')) as CryptoKey);
  t.equal(await refusal(good), null);

  // A wrong key (JOSE-encoded signature) is said as before, without the DER hint.
  const wrongKey = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(CLIENT).setSubject(CLIENT).setAudience(ISSUER)
    .setIssuedAt().setExpirationTime('2m').setJti(crypto.randomUUID()).sign((await importJWK(other.privateJwk, 'ES256')) as CryptoKey);
  const wrong = await refusal(wrongKey);
  t.match(wrong, { error: 'invalid_client', description: 'client_assertion rejected: signature verification failed' });
  t.notMatch(wrong?.description, /DER/);
});
