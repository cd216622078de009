// A receiving system's clock that is off (or the bus's) makes every delivery's `iat` look old or
// early. The demo agency systems — the reference a vendor copies — refused such a delivery 401,
// and the bus dead-letters a 4xx at once: with a clock 10 minutes off, every message to the
// system was dead-lettered for good. The bus signs each attempt anew, so the refusal is answered
// 503 with Retry-After instead: nothing is taken (a replayed old signature still gets nothing),
// and once the clock is right the next attempt is delivered. A signature that does not verify,
// or one for another member, stays a 401.
import t from 'tap';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { buildAgencySimulator } from '../services/agency-simulator/simulator-app.js';

t.test('a delivery whose iat is off this system\'s clock is refused retryably; a fresh one is taken', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'd1', alg: 'ES256' };
  const { app, state } = await buildAgencySimulator(createLocalJWKSet({ keys: [jwk] }));
  t.teardown(() => app.close());
  const envelope = (id: string) => ({ id, type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'c1', payloadDigest: 'x', data: {} });
  const deliver = async (id: string, header: { iat: number; aud?: string }) => {
    const jws = await new SignJWT(envelope(id)).setProtectedHeader({ alg: 'ES256', kid: 'd1', typ: 'lgsp-delivery+jws', aud: header.aud ?? '000.00.15.H49', svc: 'notice', iat: header.iat } as never).sign(privateKey);
    return app.inject({ method: 'POST', url: '/so-tp-qlvb', headers: { 'content-type': 'application/jose', 'lgsp-message-id': id }, payload: jws });
  };
  const now = Math.floor(Date.now() / 1000);

  for (const [what, iat] of [['signed 10 min ago by its clock', now - 600], ['signed 10 min ahead of its clock', now + 600]] as const) {
    const off = await deliver(`m-${iat}`, { iat });
    t.equal(off.statusCode, 503, `${what}: 503, which the bus retries (a 4xx dead-letters)`);
    t.ok(Number(off.headers['retry-after']) > 0, 'with Retry-After');
    t.match(off.json(), { error: /iat .*clock/ }, 'saying it is the clocks');
  }
  t.equal(state.received.get('so-tp-qlvb'), undefined, 'nothing was taken');

  const fresh = await deliver('m-fresh', { iat: now });
  t.equal(fresh.statusCode, 200, 'the next attempt, signed anew, is taken');
  const elsewhere = await deliver('m-other', { iat: now, aud: '000.00.24.H49' });
  t.equal(elsewhere.statusCode, 401, 'a delivery for another member is still a permanent refusal');
});
