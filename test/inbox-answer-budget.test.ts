// An inbox item pulled as edXML carries its attachments inline (up to 20 MB, base64): the gateway
// holds the package until the system has read it. Like an attachment download it counts against
// the gateway's budget for bodies in flight (LGSP_MAX_INFLIGHT_BODY_BYTES) until it is read or
// the connection drops, so a system that opens pulls and reads nothing cannot grow the gateway
// without bound: past the budget, 503 GATEWAY_BUSY with Retry-After.
import t from 'tap';
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

const SIZE = 18 * 1024 * 1024;

t.test('an edXML pull that is not read holds its bytes against the budget until its connection closes', async (t) => {
  const bus = await startEdocBus(t, { name: 'inbox-answer-budget', config: { maxInflightBodyBytes: 30 * 1024 * 1024 } });
  const sender = bus.client('so-tttt-qlvb');
  const senderToken = await sender.accessToken();
  const bytes = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const upload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${senderToken}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  t.equal(upload.status, 201);
  const documentId = `000.00.12.H49,2026/05/01,${Math.floor(Math.random() * 9000) + 1000}/QĐ-STTTT`;
  const sent = await sender.send({
    type: 'edoc.send',
    to: { member: '000.00.00.H49' },
    payload: {
      header: { from: { organId: '000.00.12.H49' }, to: [{ organId: '000.00.00.H49' }], documentId, subject: 'Hồ sơ quét kèm theo' },
      attachments: [{ contentId: 'cid:ho-so.pdf', name: 'Hồ sơ.pdf', contentType: 'application/pdf', sha256, size: SIZE }],
    },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const id = sent.body.id as string;

  // vp-ubnd-qlvb (000.00.00.H49) pulls from its inbox.
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const pull = () => fetch(`${bus.gateway.url}/v1/inbox/${id}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/xml' } });
  const first = await eventually(async () => {
    const res = await pull();
    const body = Buffer.from(await res.arrayBuffer());
    return res.status === 200 ? body : null;
  }, 60_000);
  t.ok(first.length > SIZE, 'the package carries the attachment inline');

  const { hostname, port } = new URL(bus.gateway.url);
  const paused = connect({ host: hostname, port: Number(port) });
  t.teardown(() => paused.destroy());
  await new Promise<void>((resolve) => paused.once('connect', resolve));
  paused.pause();
  paused.write(`GET /v1/inbox/${id} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nAccept: application/xml\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 1500));

  const refused = await pull();
  t.equal(refused.status, 503, 'a second pull of the package does not fit beside the unread one');
  t.equal(refused.headers.get('retry-after'), '1');
  t.match(await refused.json(), { code: 'GATEWAY_BUSY' });

  paused.destroy();
  const again = await eventually(async () => {
    const res = await pull();
    const body = Buffer.from(await res.arrayBuffer());
    return res.status === 200 ? body : null;
  }, 10_000);
  t.ok(again.equals(first), 'once the unread pull is gone, the package is served again');
});
