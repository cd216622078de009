// The demo agency systems keep what they received for /_admin and the tests to read. They kept
// every message, each with its whole envelope, for as long as the stack ran: a soak of `npm
// start` at ~15 notices a second grew the agency simulator by ~1.5 MB a minute without end (and
// each delivery's duplicate check scanned the whole list). Each system now keeps its newest
// messages only; the duplicate check still holds for those, and `taken` counts them all.
import t from 'tap';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { buildAgencySimulator } from '../services/agency-simulator/simulator-app.js';

t.test('each system keeps its newest messages only, still taking a kept one once', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'd1', alg: 'ES256' };
  const { app, state } = await buildAgencySimulator(createLocalJWKSet({ keys: [jwk] }), { keepPerSystem: 3 });
  t.teardown(() => app.close());
  const deliver = async (id: string) => {
    const envelope = { id, type: 'notice.send', from: { member: '000.00.12.H49', system: 'so-tttt-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, correlationId: id, payloadDigest: 'x', data: {} };
    const jws = await new SignJWT(envelope).setProtectedHeader({ alg: 'ES256', kid: 'd1', typ: 'lgsp-delivery+jws', aud: '000.00.15.H49', svc: 'notice', iat: Math.floor(Date.now() / 1000) } as never).sign(privateKey);
    const r = await app.inject({ method: 'POST', url: '/so-tp-qlvb', headers: { 'content-type': 'application/jose', 'lgsp-message-id': id }, payload: jws });
    t.equal(r.statusCode, 200, `${id} taken`);
  };
  for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) await deliver(id);
  t.same(state.received.get('so-tp-qlvb')!.map((m) => m.id), ['m3', 'm4', 'm5'], 'the newest three kept, oldest first');
  await deliver('m4');
  t.same(state.received.get('so-tp-qlvb')!.map((m) => m.id), ['m3', 'm4', 'm5'], 'a duplicate of a kept message is not taken again');
  const admin = (await app.inject({ method: 'GET', url: '/_admin/systems/so-tp-qlvb/received' })).json();
  t.equal(admin.messages.length, 3);
  t.equal(admin.taken, 5, 'taken counts every distinct message, those no longer kept included');
});
