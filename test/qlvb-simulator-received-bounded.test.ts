// The demo QLVB systems keep the documents they received (the package's XML included) for /_admin
// and the tests. They kept every one for as long as the stack ran: a soak of `npm start` at one
// document a second grew the QLVB simulator steadily (~8 KB of XML a document, a package's
// attachments inline). Each system now keeps its newest documents only, a duplicate of a kept
// one still answered as such.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { QlvbSimulator } from '../services/qlvb-simulator/qlvb-simulator.js';
import { encodeEdxml } from '../services/edxml/edxml-codec.js';
import { signDetached, SIGNATURE_HTTP_HEADER } from '../services/platform/detached-jws.js';
import { deliveryClaims } from '../services/platform/delivery-claims.js';

t.test('each QLVB system keeps its newest documents only', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = { kid: 'delivery-1', keyObject: privateKey } as never;
  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const simulator = new QlvbSimulator({
    gatewayUrl: 'http://127.0.0.1:9',
    getKey: async () => publicKey,
    systems: [{ clientId: 'vp-qlvb', member: '000.00.00.H49', organName: 'Văn phòng', mode: 'push', format: 'edxml', credentials: { clientId: 'vp-qlvb', privateJwk: await exportJWK(clientKey) } }],
    // Its status packets go to a port nobody listens on: not the point here.
    answerDelayMs: 50,
    keepPerSystem: 2,
  });
  const url = await simulator.app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => simulator.stop());

  const push = async (n: number) => {
    const payload = { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId: `000.00.12.H49,2026/05/01,${n}/QĐ-STTTT`, subject: `Văn bản ${n}` } };
    const xml = Buffer.from(encodeEdxml('edoc.send', payload));
    const res = await fetch(`${url}/vp-qlvb`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml; charset=utf-8', 'lgsp-message-id': `m${n}`, [SIGNATURE_HTTP_HEADER]: signDetached(xml, key, 'application/xml; charset=utf-8', deliveryClaims({ member: '000.00.00.H49', service: 'qlvb' })) },
      body: xml,
    });
    return { status: res.status, body: (await res.json()) as { received?: string; duplicate?: boolean } };
  };
  for (const n of [1, 2, 3, 4]) t.equal((await push(n)).status, 200, `document ${n} taken`);
  t.same(simulator.received.get('vp-qlvb')!.map((d) => d.messageId), ['m3', 'm4'], 'the newest two kept, oldest first');
  t.same((await push(4)).body, { received: 'm4', duplicate: true }, 'a kept document pushed again is a duplicate');
  const admin = (await (await fetch(`${url}/_admin/systems/vp-qlvb/documents`)).json()) as { documents: unknown[] };
  t.equal(admin.documents.length, 2);
});
