// POST /v1/token must not tell an outsider which client ids are registered (README, API table:
// "an unknown client id is refused like a wrong secret, in the same words"). With
// client_secret_basic it did not; with private_key_jwt it did: an assertion signed with any key
// and claiming an unregistered id was refused "Unknown client or no key registered", one
// claiming a registered id "signature verification failed" (or "no applicable key found" with a
// kid) — a list of guesses was enough to learn every registered system, operators included. Now
// an unknown client's assertion is checked against a decoy key: refused in the same words.
import t from 'tap';
import { randomUUID, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';

function assertion(key: KeyObject, header: Record<string, unknown>, clientId: string, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 60, jti: randomUUID() };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

t.test('a client assertion for an unregistered id is refused like one for a registered id', async (t) => {
  const bus = await startTestBus(t, { name: 'assertion-unknown', connectors: [] });
  const issuer = bus.config.issuer;
  // The outsider's own key: registered for nobody.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const refusal = async (clientId: string, header: Record<string, unknown>) => {
    const r = await fetch(`${bus.gateway.url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion(privateKey, header, clientId, issuer),
      }),
    });
    return { status: r.status, body: await r.json() };
  };
  for (const header of [{ alg: 'ES256' }, { alg: 'ES256', kid: 'guessed-kid' }, { alg: 'ES384' }]) {
    const registered = await refusal('lgsp-operator', header);
    t.equal(registered.status, 401, `${JSON.stringify(header)}: a registered id with a foreign key is refused`);
    t.equal(registered.body.error, 'invalid_client');
    for (const unknown of ['no-such-system', 'lgsp-operatr']) {
      t.same(await refusal(unknown, header), registered, `${JSON.stringify(header)}: ${unknown} is refused in the same words`);
    }
  }
});
