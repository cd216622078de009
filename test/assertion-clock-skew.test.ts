// An agency system whose clock is off signs client assertions whose iat/exp/nbf the gateway
// judges by its own clock, with 30 s of skew allowed. A refusal for that reason must say so in
// terms the vendor can act on: which claim, how far off it is against the gateway's clock, the
// skew allowed, and that the signing system's clock is what to check. "iat is in the future"
// alone named neither the distance nor the allowance, and an assertion signed "just now" by a
// clock 10 minutes behind was told only to "sign a new one", which it had.
import t from 'tap';
import { SignJWT, importJWK, type CryptoKey } from 'jose';
import { Registry } from '../services/platform/registry.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';
import { generateSigningJwk } from '../services/platform/keystore.js';
import { AssertionReplayCache, ClientAuthenticator, OAuthError } from '../services/gateway/client-authentication.js';
import { seedRegistry } from './helpers/test-bus.js';

const ISSUER = 'https://bus.example';
const CLIENT = 'so-tp-qlvb';
const noReplays = new AssertionReplayCache({ query: async () => ({ rowCount: 1 }) } as never);

t.test('assertions from a clock ahead or behind: accepted within 30 s, refused beyond it in words that name the clock', async (t) => {
  const key = await generateSigningJwk();
  const data = seedRegistry();
  data.systems.find((s) => s.clientId === CLIENT)!.auth = { jwks: { keys: [key.publicJwk] } };
  const registry = Registry.fromData(data, new SchemaCatalogue());
  const auth = new ClientAuthenticator(() => registry, [ISSUER], noReplays);
  const signer = (await importJWK(key.privateJwk, 'ES256')) as CryptoKey;
  /** An assertion as a system whose clock is `skew` seconds off signs it: iat = its now, exp = iat + `lifetime`. */
  const signedAt = (skew: number, opts: { lifetime?: number; iat?: boolean; nbf?: boolean } = {}) => {
    const now = Math.floor(Date.now() / 1000) + skew;
    let jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: key.kid }).setIssuer(CLIENT).setSubject(CLIENT).setAudience(ISSUER).setJti(crypto.randomUUID());
    if (opts.iat !== false) jwt = jwt.setIssuedAt(now);
    if (opts.nbf) jwt = jwt.setNotBefore(now);
    return jwt.setExpirationTime(now + (opts.lifetime ?? 120)).sign(signer);
  };
  const outcome = async (assertion: string): Promise<OAuthError | 'token'> =>
    auth.authenticate({ client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion }, undefined).then(() => 'token' as const, (err: unknown) => err as OAuthError);

  for (const skew of [-120, -25, 0, 25]) t.equal(await outcome(await signedAt(skew)), 'token', `a clock ${skew} s off: a token`);
  t.equal(await outcome(await signedAt(-280, { lifetime: 3600 })), 'token', 'an Authlib-shaped assertion from a clock 280 s behind: a token');

  for (const skew of [120, 600]) {
    const ahead = await outcome(await signedAt(skew));
    t.type(ahead, OAuthError, `a clock ${skew} s ahead: refused`);
    t.match(ahead, { error: 'invalid_client', description: /^client_assertion iat is in the future/ });
    const description = (ahead as OAuthError).description;
    t.match(description, new RegExp(`\\b(${skew - 1}|${skew}|${skew + 1}) s ahead of the gateway's clock \\(\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)`), 'says how far ahead, against which time');
    t.match(description, /beyond the 30 s allowed for clock skew/, 'names the allowance');
    t.match(description, /check the clock of the signing system/, 'says what to check');
  }

  const behind = await outcome(await signedAt(-600, { lifetime: 3600 }));
  t.type(behind, OAuthError, 'an Authlib-shaped assertion from a clock 10 min behind: refused');
  t.match(behind, { description: /^client_assertion iat is 60\d s ago: an assertion must be issued within the last 300 s/ });
  t.match((behind as OAuthError).description, /30 s allowed for clock skew/, 'names the allowance');
  t.match((behind as OAuthError).description, /clock of the signing system is about 60\d s behind the gateway's \(\d{4}-\d\d-\d\dT[\d:.]+Z\)/, 'says the clock may be behind, and by how much');

  const noIat = await outcome(await signedAt(600, { iat: false }));
  t.type(noIat, OAuthError, 'without iat, an exp 12 min ahead: refused');
  t.match(noIat, { description: /exp must be within 300 s from now when it has no iat/ });
  t.match((noIat as OAuthError).description, /exp is 7\d\d s from now/, 'says how far its exp is');
  t.match((noIat as OAuthError).description, /check the clock of the signing system/);
});
