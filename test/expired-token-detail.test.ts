// An access token lasts minutes (LGSP_TOKEN_TTL_SECONDS), so an expired one is the refusal an
// agency system meets most. Its 401 said `token rejected: "exp" claim timestamp check failed`
// (jose's words): which claim of which JWT, and nothing about what to do. It says that the token
// expired, when, and to get a new one from POST /v1/token; still INVALID_TOKEN with
// error="invalid_token", as RFC 6750 has it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';
import { ACCESS_TOKEN_TYPE } from '../services/platform/access-token.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('an expired access token is refused saying it expired, when, and where to get a new one', async (t) => {
  const bus = await startTestBus(t, { name: 'expired-token-detail', runner: false });
  // The gateway's own token key: the token is genuine in every way but its age.
  const { keys } = JSON.parse(readFileSync(join(bus.config.keysDir, 'gateway', 'token.json'), 'utf8')) as { keys: { kid: string; privateJwk: JWK }[] };
  const signing = keys[keys.length - 1];
  const now = Math.floor(Date.now() / 1000);
  const exp = now - 60;
  const token = await new SignJWT({ client_id: 'so-tp-motcua', member: '000.00.15.H49', roles: ['agency'] })
    .setProtectedHeader({ alg: 'ES256', kid: signing.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(bus.config.issuer)
    .setAudience(bus.config.issuer)
    .setSubject('so-tp-motcua')
    .setIssuedAt(now - 360)
    .setExpirationTime(exp)
    .setJti('expired-token-detail')
    .sign(await importJWK(signing.privateJwk, 'ES256'));

  const answer = await fetch(`${bus.gateway.url}/v1/services`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await answer.json()) as { code: string; detail: string };
  t.equal(answer.status, 401);
  t.equal(body.code, 'INVALID_TOKEN');
  t.match(answer.headers.get('www-authenticate'), /error="invalid_token"/);
  t.match(body.detail, /the access token expired/, `says it expired (${body.detail})`);
  t.match(body.detail, new Date(exp * 1000).toISOString(), 'names when');
  t.match(body.detail, /POST \/v1\/token/, 'says where to get a new one');
  t.notMatch(body.detail, /claim timestamp check failed/, 'not in the JWT library\'s words');

  // A fresh token of the same client still passes: only the age was wrong.
  const fresh = await fetch(`${bus.gateway.url}/v1/services`, { headers: { authorization: `Bearer ${await bus.client('so-tp-motcua').accessToken()}` } });
  t.equal(fresh.status, 200);
});
