// A client assertion without `kid` (RFC 7523 asks for none; Python's and Java's OAuth libraries
// often send none) was refused 401 invalid_client "multiple matching keys found in the JSON Web
// Key Set" as soon as the client had two registered keys of its type — as during a key
// rotation, when the new key is registered beside the old. Each matching key is tried now.
import t from 'tap';
import { SignJWT, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { Registry } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';
import { generateSigningJwk } from '../services/platform/keystore.js';
import { AssertionReplayCache, ClientAuthenticator, OAuthError } from '../services/gateway/client-authentication.js';
import { seedRegistry } from './helpers/test-bus.js';

const ISSUER = 'https://bus.example';
const CLIENT = 'so-tp-qlvb';
/** Every assertion id is new here: the replay cache is not what is tested. */
const noReplays = new AssertionReplayCache({ query: async () => ({ rowCount: 1 }) } as never);

function assertion(key: CryptoKey, opts: { kid?: string; audience?: string } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', ...(opts.kid ? { kid: opts.kid } : {}) })
    .setIssuer(CLIENT)
    .setSubject(CLIENT)
    .setAudience(opts.audience ?? ISSUER)
    .setIssuedAt()
    .setExpirationTime('2m')
    .setJti(crypto.randomUUID())
    .sign(key);
}

t.test('an assertion without kid is checked against each registered key of its type', async (t) => {
  const oldKey = await generateSigningJwk();
  const newKey = await generateSigningJwk();
  const data = seedRegistry();
  data.systems.find((s) => s.clientId === CLIENT)!.auth = { jwks: { keys: [oldKey.publicJwk, newKey.publicJwk] } };
  const registry = Registry.fromData(data, new SchemaCatalogue());
  const auth = new ClientAuthenticator(() => registry, [ISSUER], noReplays);
  const authenticate = (clientAssertion: string) => auth.authenticate({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: clientAssertion }, undefined);
  const signer = async (jwk: JWK) => (await importJWK(jwk, 'ES256')) as CryptoKey;

  for (const [name, key] of [['the old key', oldKey], ['the new key', newKey]] as const) {
    const { client } = await authenticate(await assertion(await signer(key.privateJwk)));
    t.equal(client.clientId, CLIENT, `signed with ${name}, no kid: a token`);
  }
  const withKid = await authenticate(await assertion(await signer(newKey.privateJwk), { kid: newKey.kid }));
  t.equal(withKid.client.clientId, CLIENT, 'with kid, as before');

  const stranger = (await generateKeyPair('ES256')).privateKey;
  const refusal = async (clientAssertion: string): Promise<OAuthError | null> => authenticate(clientAssertion).then(() => null, (err: unknown) => err as OAuthError);
  const strangersKey = await refusal(await assertion(stranger));
  t.type(strangersKey, OAuthError, 'a key the client did not register is refused');
  t.match(strangersKey, { error: 'invalid_client', description: /signature verification failed/ });
  const wrongAudience = await refusal(await assertion(await signer(oldKey.privateJwk), { audience: 'https://elsewhere.example' }));
  t.type(wrongAudience, OAuthError);
  t.match(wrongAudience, { error: 'invalid_client', description: /^client_assertion aud must be .*\(one of https:\/\/bus\.example\); it is "https:\/\/elsewhere\.example"$/ }, 'a wrong audience is said as such, not as a wrong key');
});
