// What the QLVB vendor guide (§4) tells a receiver to check, done by the QLVB simulator that
// demonstrates it: a delivery signed for another member (`aud`) is refused, in both forms (the
// envelope's JWS and an edXML body with a detached LGSP-Signature), and one signed for its own
// member is taken.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { QlvbSimulator } from '../services/qlvb-simulator/qlvb-simulator.js';
import { deliverSigned } from '../services/platform/signed-delivery.js';
import { createEnvelope } from '../services/platform/envelope.js';
import { encodeEdxml } from '../services/edxml/edxml-codec.js';
import { signDetached, SIGNATURE_HTTP_HEADER } from '../services/platform/detached-jws.js';
import { deliveryClaims } from '../services/platform/delivery-claims.js';

t.test('the QLVB simulator refuses a push signed for another member', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = { kid: 'delivery-1', keyObject: privateKey } as never;
  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const simulator = new QlvbSimulator({
    gatewayUrl: 'http://127.0.0.1:9',
    getKey: async () => publicKey,
    systems: [{ clientId: 'vp-qlvb', member: '000.00.00.H49', organName: 'Văn phòng', mode: 'push', format: 'edxml', credentials: { clientId: 'vp-qlvb', privateJwk: await exportJWK(clientKey) } }],
    // Its status packets go to a port nobody listens on: not the point here.
    answerDelayMs: 50,
  });
  const url = await simulator.app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => simulator.stop());

  const payload = { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId: '000.00.12.H49,2026/05/01,7/QĐ-STTTT', subject: 'Người nhận của chữ ký' } };
  for (const [member, expected] of [['000.00.15.H49', 401], ['000.00.00.H49', 200]] as const) {
    const envelope = createEnvelope({ type: 'edoc.send', from: { member: '000.00.12.H49', system: 'so-qlvb' }, to: { member, service: 'qlvb' }, data: payload });
    const pushed = await deliverSigned({ url: `${url}/vp-qlvb`, envelope }, key, 10_000, new AbortController().signal).then(
      (r) => ({ status: r.status, body: String(r.body) }),
      // A refusal is a PermanentError whose message names the receiver's status.
      (err: Error) => ({ status: Number(/HTTP (\d{3})/.exec(err.message)?.[1]), body: err.message }),
    );
    t.equal(pushed.status, expected, `JSON form signed for ${member}: ${pushed.body}`);

    const xml = Buffer.from(encodeEdxml('edoc.send', payload));
    const res = await fetch(`${url}/vp-qlvb`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml; charset=utf-8', 'lgsp-message-id': envelope.id, [SIGNATURE_HTTP_HEADER]: signDetached(xml, key, 'application/xml; charset=utf-8', deliveryClaims({ member, service: 'qlvb' })) },
      body: xml,
    });
    const answer = (await res.json()) as { error?: string };
    t.equal(res.status, expected, `edXML form signed for ${member}: ${JSON.stringify(answer)}`);
    if (expected === 401) t.match(answer.error, `signed for "${member}", not 000.00.00.H49`, 'the refusal names both members');
  }
});
