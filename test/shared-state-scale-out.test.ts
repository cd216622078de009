// Two gateways and two runners on one bus, real Kafka and real PostgreSQL: whatever a caller
// did through gateway A holds through gateway B — Idempotency-Keys, single-use client
// assertions, tokens, message status, documents and their lifecycle, attachments, inboxes.
import t from 'tap';
import { randomBytes, createHash } from 'node:crypto';
import { startTestBus, eventually } from './helpers/test-bus.js';
import { createClientAssertion } from '../services/platform/bus-client.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';

const OFFICE = '000.00.00.H49'; // vp-ubnd-qlvb, pulls its inbox
const COMMUNE = 'H49.242.10'; // xa-hoaphuoc-qlvb, pulls its inbox (JSON)
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('two gateways, two runners, one shared state', async (t) => {
  const bus = await startTestBus(t, { name: 'scale', gateways: 2, runners: 2, connectors: ['relay', 'document-management'] });
  const [A, B] = [0, 1];
  t.not(bus.gateways[A].url, bus.gateways[B].url, 'two gateways on their own ports');

  await t.test('the same Idempotency-Key through A then B: one message, one delivery; another body: 409', async (t) => {
    const submission = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'CV-IDEM-1', payload: { subject: 'Họp giao ban', body: 'Lúc 8 giờ.' } };
    const first = await bus.client('so-tttt-qlvb', A).send(submission, 'key-across-gateways');
    t.equal(first.status, 202, JSON.stringify(first.body));
    const again = await bus.client('so-tttt-qlvb', B).send(submission, 'key-across-gateways');
    t.equal(again.status, 202);
    t.equal(again.body.id, first.body.id, 'B answers the id A gave');
    const other = await bus.client('so-tttt-qlvb', B).send({ ...submission, payload: { ...submission.payload, body: 'Lúc 9 giờ.' } }, 'key-across-gateways');
    t.equal(other.status, 409);
    t.match(other.body, { code: 'IDEMPOTENCY_KEY_REUSED' });

    // Both at once, one through each gateway: still one message.
    const racing = { ...submission, correlationId: 'CV-IDEM-2' };
    const [ra, rb] = await Promise.all([bus.client('so-tttt-qlvb', A).send(racing, 'key-racing'), bus.client('so-tttt-qlvb', B).send(racing, 'key-racing')]);
    t.equal(ra.status, 202);
    t.equal(rb.status, 202);
    t.equal(ra.body.id, rb.body.id, 'concurrent requests with one key get one id');

    // A message sent through A shows delivered through B.
    const delivered = await eventually(async () => {
      const v = await bus.client('so-tttt-qlvb', B).status(first.body.id);
      return v.body.status === 'delivered' ? v.body : null;
    });
    t.same(delivered.events.map((e: { event: string }) => e.event), ['accepted', 'delivered']);
    await eventually(async () => (await bus.client('so-tttt-qlvb', A).status(ra.body.id)).body.status === 'delivered');
    await new Promise((r) => setTimeout(r, 500));
    const received = bus.simulator.received.get('so-tp-qlvb') ?? [];
    t.equal(received.filter((m) => m.correlationId === 'CV-IDEM-1').length, 1, 'the receiver got one delivery');
    t.equal(received.filter((m) => m.correlationId === 'CV-IDEM-2').length, 1, 'and one for the racing pair');
  });

  await t.test('an assertion accepted at A is a replay at B; a token issued by A works at B', async (t) => {
    const creds = bus.clients.get('so-tttt-qlvb')!;
    const assertion = await createClientAssertion(creds, bus.config.issuer);
    const tokenAt = (i: number) =>
      fetch(`${bus.gateways[i].url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion }),
      });
    const atA = await tokenAt(A);
    t.equal(atA.status, 200);
    const { access_token: token } = (await atA.json()) as { access_token: string };
    const atB = await tokenAt(B);
    t.equal(atB.status, 401, 'refused at B');
    t.match(await atB.json(), { error: 'invalid_client', error_description: /already used/ });
    const services = await fetch(`${bus.gateways[B].url}/v1/services`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(services.status, 200, 'A\'s token is accepted by B');
  });

  await t.test('a document sent through A: recipients, status packets, revoke and attachments through B; the inbox across both', async (t) => {
    const officeA = bus.client('vp-ubnd-qlvb', A);
    const officeB = bus.client('vp-ubnd-qlvb', B);
    const communeA = bus.client('xa-hoaphuoc-qlvb', A);
    const communeB = bus.client('xa-hoaphuoc-qlvb', B);
    const documentId = `${OFFICE},2026/05/02,201/UBND-VX`;

    // An attachment uploaded at A downloads byte for byte at B.
    const bytes = randomBytes(256 * 1024 + 3);
    const upload = await fetch(`${bus.gateways[A].url}/v1/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await officeA.accessToken()}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    t.equal(upload.status, 201);
    const { sha256: digest } = (await upload.json()) as { sha256: string };
    t.equal(digest, sha256(bytes));

    const sent = await officeA.send({
      type: 'edoc.send',
      to: [{ member: COMMUNE }],
      payload: {
        header: { from: { organId: OFFICE }, to: [{ organId: COMMUNE }], documentId, subject: 'Kế hoạch tiêm chủng mở rộng năm 2026 (dữ liệu mẫu)' },
        attachments: [{ contentId: 'cid:kh.pdf', name: 'Kế hoạch.pdf', contentType: 'application/pdf', sha256: digest, size: bytes.length }],
      },
    });
    t.equal(sent.status, 202, JSON.stringify(sent.body));
    const again = await officeB.send({
      type: 'edoc.send',
      to: [{ member: COMMUNE }],
      payload: { header: { from: { organId: OFFICE }, to: [{ organId: COMMUNE }], documentId, subject: 'Gửi lại' } },
    });
    t.equal(again.status, 409, 'B knows A already sent this document');
    t.match(again.body, { code: 'DOCUMENT_ALREADY_SENT' });

    const viewB = await officeB.request('GET', `/v1/documents/${encodeURIComponent(documentId)}`);
    t.equal(viewB.status, 200, 'B knows the document');
    t.match(viewB.body.recipients, [{ member: COMMUNE, messageId: sent.body.recipients[0].id }]);

    // The commune lists its inbox through A, downloads the attachment and acknowledges through B.
    const item = await eventually(async () => {
      const list = await communeA.request('GET', '/v1/inbox?type=edoc.*');
      return list.body.items?.find((i: { documentId?: string }) => i.documentId === documentId);
    });
    t.match(item.attachments, [{ sha256: digest, size: bytes.length }]);
    const download = await fetch(`${bus.gateways[B].url}/v1/attachments/${digest}`, { headers: { authorization: `Bearer ${await communeB.accessToken()}` } });
    t.equal(download.status, 200);
    t.ok(Buffer.from(await download.arrayBuffer()).equals(bytes), 'byte for byte at B');
    const fetched = await communeB.request('GET', `/v1/inbox/${item.id}`);
    t.equal(fetched.status, 200, 'the item is readable through B');
    const ack = await communeB.request('POST', `/v1/inbox/${item.id}/ack`);
    t.equal(ack.status, 200);
    await new Promise((r) => setTimeout(r, 1000));
    for (const [name, client] of [['A', communeA], ['B', communeB]] as const) {
      const list = await client.request('GET', '/v1/inbox?type=edoc.*');
      t.notOk(list.body.items.some((i: { id: string }) => i.id === item.id), `acknowledged item never comes back through ${name}`);
      t.equal((await client.request('GET', `/v1/inbox/${item.id}`)).status, 404);
    }
    await eventually(async () => (await officeA.status(item.id)).body.status === 'delivered');

    // Status packets through B, checked against the state A wrote; a revoke through B.
    const status = (client: typeof communeA, code: string) =>
      client.send({ type: 'edoc.status', to: { member: OFFICE }, payload: { responseFor: { documentId }, from: { organId: COMMUNE }, statusCode: code, description: `Trạng thái ${code}` } });
    t.equal((await status(communeB, '03')).status, 202);
    const illegal = await status(communeA, '02');
    t.equal(illegal.status, 409, 'A sees the state B wrote: refusing after receiving is illegal');
    t.match(illegal.body, { code: 'ILLEGAL_STATUS_TRANSITION' });
    const revoke = await officeB.send({
      type: 'edoc.send',
      to: [{ member: COMMUNE }],
      payload: {
        header: { from: { organId: OFFICE }, to: [{ organId: COMMUNE }], documentId, subject: 'Thu hồi' },
        traceHeaderList: { bussiness: { bussinessDocType: 1, bussinessDocReason: 'Ban hành nhầm', documentId } },
      },
    });
    t.equal(revoke.status, 202, JSON.stringify(revoke.body));
    const viewA = await officeA.request('GET', `/v1/documents/${encodeURIComponent(documentId)}`);
    t.same(viewA.body.recipients[0].history.map((h: { code: string }) => h.code), ['03', '13'], 'A shows the status B took and the revoke B recorded');
    t.same(viewA.body.packages.map((p: { businessDocType: number | null }) => p.businessDocType), [0, null, 1]);
  });
});
