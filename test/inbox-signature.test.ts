// A pulled inbox item is a delivery like a pushed one: its LGSP-Signature (detached JWS over the
// body) names the recipient member (`aud`), its service (`svc`) and the signing time (`iat`) in its
// protected header, so a receiver can refuse an item meant for someone else or replayed long after (README, *How
// messages are signed*). Verified the way the QLVB vendor guide tells receivers to: against
// /.well-known/jwks.json?purpose=delivery with jose.
import t from 'tap';
import { compactVerify, createRemoteJWKSet } from 'jose';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

t.test('inbox items are signed for their recipient, with the signing time', async (t) => {
  const bus = await startEdocBus(t, { name: 'inboxsig' });
  // vp-ubnd-qlvb (000.00.00.H49) pulls JSON from its inbox; the QLVB simulator leaves it to the test.
  const office = bus.client('vp-ubnd-qlvb');
  const sender = bus.client('so-tttt-qlvb');
  const documentId = `000.00.12.H49,2026/05/01,${Math.floor(Math.random() * 9000) + 1000}/QĐ-STTTT`;
  const sent = await sender.send({
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: { header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId, subject: 'Chữ ký của mục hộp thư' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = sent.body.id as string;

  const token = await office.accessToken();
  const jwks = createRemoteJWKSet(new URL(`${bus.gateway.url}/.well-known/jwks.json?purpose=delivery`));
  const item = await eventually(async () => {
    const res = await fetch(`${bus.gateway.url}/v1/inbox/${id}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    return res.status === 200 ? ((await res.json()) as { to: { service: string } }) : null;
  }, 60_000);
  const service = item.to.service;
  t.ok(service, `the item's envelope names its service (${service})`);
  for (const accept of ['application/json', 'application/xml']) {
    const r = await eventually(async () => {
      const res = await fetch(`${bus.gateway.url}/v1/inbox/${id}`, { headers: { authorization: `Bearer ${token}`, accept } });
      return res.status === 200 ? res : null;
    }, 60_000);
    t.match(r.headers.get('content-type'), accept === 'application/json' ? /^application\/json/ : /^application\/xml/);
    const rawBody = Buffer.from(await r.arrayBuffer());
    // The vendor guide's snippet, as written.
    const [h, , s] = r.headers.get('lgsp-signature')!.split('.');
    const { protectedHeader } = await compactVerify(`${h}.${Buffer.from(rawBody).toString('base64url')}.${s}`, jwks, { algorithms: ['ES256'] });
    t.equal(protectedHeader.typ, 'lgsp-delivery+jws', `${accept}: a delivery signature`);
    t.equal(protectedHeader.aud, '000.00.00.H49', `${accept}: aud names the recipient member`);
    t.equal(protectedHeader.svc, service, `${accept}: svc names the service the item is for`);
    t.ok(typeof protectedHeader.iat === 'number' && Math.abs(Date.now() / 1000 - (protectedHeader.iat as number)) < 60, `${accept}: iat is the signing time`);
  }
});
