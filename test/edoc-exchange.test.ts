// Document exchange end to end on the real broker: an edXML package posted as XML fans out to
// a push (edXML) and a pull (JSON) recipient intact, with verified attachments that never went
// through Kafka; status packets come back per recipient; a revoke reaches both; a recipient
// that is down is retried then delivered while the others are not held up.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicsFor } from '../services/platform/topics.js';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { eventually } from './helpers/test-bus.js';
import { readTopic } from './helpers/topic-reader.js';
import { startEdocBus } from './helpers/edoc-bus.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', name));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

t.test('document exchange', async (t) => {
  const bus = await startEdocBus(t, { name: 'edoc', config: { attachmentMaxBytes: 8 * 1024 * 1024 } });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const postXml = (xml: Buffer | string, bearer: string | null = token) =>
    fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body: typeof xml === 'string' ? xml : new Uint8Array(xml) });
  const documentView = (id: string, client = office) => client.request('GET', `/v1/documents/${encodeURIComponent(id)}`);
  const docs = (clientId: string) => bus.qlvb.received.get(clientId) ?? [];

  const original = decodeEdxml(fixture('document-new.xml')).payload as any;
  const documentId = original.header.documentId as string;

  await t.test('an edXML package posted as XML reaches a push (edXML) and a pull (JSON) recipient intact', async (t) => {
    const r = await postXml(fixture('document-new.xml'));
    const body = await r.json();
    t.equal(r.status, 202, JSON.stringify(body));
    t.equal(body.status, 'accepted');
    t.same(body.recipients.map((x: any) => x.member).sort(), ['000.00.15.H49', 'H49.242.10']);
    t.equal(body.id, body.recipients[0].id);
    t.not(body.recipients[0].id, body.recipients[1].id, 'one message per recipient');

    // The first delivery waits for consumer groups to form: generous under a loaded CI machine.
    const pushed = await eventually(() => docs('so-tp-qlvb').find((d) => d.documentId === documentId), 60_000).catch(async (err) => {
      t.comment(JSON.stringify((await office.status(body.recipients[0].id)).body.events));
      throw err;
    });
    const pulled = await eventually(() => docs('xa-hoaphuoc-qlvb').find((d) => d.documentId === documentId), 60_000).catch(async (err) => {
      t.comment(JSON.stringify((await office.status(body.recipients[1].id)).body.events));
      t.comment(JSON.stringify((await bus.client('xa-hoaphuoc-qlvb').request('GET', '/v1/inbox')).body));
      throw err;
    });
    t.match(pushed, { via: 'push', format: 'edxml', type: 'edoc.send', subject: original.header.subject, businessDocType: 0 });
    t.match(pulled, { via: 'pull', format: 'json', type: 'edoc.send', subject: original.header.subject, from: '000.00.00.H49' });
    const expected = original.attachments.map((a: any) => ({ contentId: a.contentId, sha256: sha256(Buffer.from(a.content, 'base64')) }));
    for (const d of [pushed, pulled]) {
      t.same(d.attachments.map((a) => ({ contentId: a.contentId, sha256: a.sha256 })), expected, `${d.via}: attachment digests intact`);
      t.ok(d.attachments.every((a) => a.verified), `${d.via}: attachments verified`);
      t.notOk(d.problem);
    }

    // The claim check: the records on Kafka carry digests, not the attachment bytes.
    const records = await readTopic(bus.config.kafkaBrokers, topicsFor(bus.config.topicPrefix).message('document-exchange'), 2);
    const mine = records.filter((rec) => JSON.parse(rec.value).correlationId === documentId && JSON.parse(rec.value).type === 'edoc.send');
    t.equal(mine.length, 2);
    for (const rec of mine) {
      // The payload travels sealed for the runner (payload encryption at rest): open it as the runner does.
      const data = bus.keys.openPayload('runner', JSON.parse(rec.value).data) as any;
      t.notOk(data.attachments.some((a: any) => 'content' in a), 'no attachment content on Kafka');
      t.same(data.attachments.map((a: any) => a.sha256), expected.map((e: any) => e.sha256));
      t.equal(data.header.subject, original.header.subject, 'Vietnamese text intact (NFC)');
    }

    // Status packets 03 then 06 come back per recipient; the sender sees each recipient's state.
    const view = await eventually(async () => {
      const v = await documentView(documentId);
      return v.body.recipients?.every((rcp: any) => rcp.status === '06' && rcp.delivery === 'delivered') ? v.body : null;
    });
    for (const rcp of view.recipients) t.same(rcp.history.map((h: any) => h.code), ['03', '06'], `${rcp.member}: 03 then 06`);
    t.equal(view.from.member, '000.00.00.H49');
    const statuses = await eventually(async () => {
      const inbox = await office.request('GET', '/v1/inbox?type=edoc.status&limit=100');
      const items = inbox.body.items.filter((i: any) => i.documentId === documentId);
      return items.length === 4 ? items : null;
    });
    t.same(statuses.map((s: any) => s.statusCode).sort(), ['03', '03', '06', '06'], 'the packets arrived in the sender\'s inbox');
    const trace = await office.status(body.recipients.find((x: any) => x.member === '000.00.15.H49').id);
    t.same(trace.body.events.filter((e: any) => e.event === 'status' && e.detail.statusCode).map((e: any) => e.detail.statusCode), ['03', '06'], 'statuses on the message timeline');
    // The fixture's XML-DSig signature is fictional (its digests match nothing) and carries no
    // certificate: the bus says so on the timeline.
    t.match(trace.body.events.find((e: any) => e.event === 'status' && e.detail.signature)?.detail, { signature: 'invalid', reason: /digest does not match/ }, 'the signature result on the timeline');
    const pullTrace = await office.status(body.recipients.find((x: any) => x.member === 'H49.242.10').id);
    t.match(pullTrace.body.events.filter((e: any) => e.event !== 'status').map((e: any) => e.event), ['accepted', 'deposited', 'delivered'], 'pull: deposited, then delivered on ack');

    // A recipient sees its own row only; a stranger sees nothing.
    const asRecipient = await documentView(documentId, bus.client('xa-hoaphuoc-qlvb'));
    t.same(asRecipient.body.recipients.map((r: any) => r.member), ['H49.242.10']);
    // A document the caller may not see answers exactly like an unknown one (no existence oracle).
    const foreign = await documentView(documentId, bus.client('so-tttt-qlvb'));
    const unknown = await documentView('000.00.00.H49,2026/01/01,1/UNKNOWN', bus.client('so-tttt-qlvb'));
    t.same([foreign.status, foreign.body.code], [404, 'DOCUMENT_NOT_FOUND']);
    t.same([unknown.status, unknown.body.code], [404, 'DOCUMENT_NOT_FOUND']);

    // An acknowledged item never comes back.
    const ackedId = body.recipients.find((x: any) => x.member === 'H49.242.10').id;
    const xa = bus.client('xa-hoaphuoc-qlvb');
    t.equal((await xa.request('GET', `/v1/inbox/${ackedId}`)).status, 404);
    t.notOk((await xa.request('GET', '/v1/inbox')).body.items.some((i: any) => i.id === ackedId));

    // Acks racing each other (a client retrying before its first answer): one receipt. Half
    // name the item in upper case, as a system keeping ids in a GUID column does (RFC 9562: UUIDs
    // are case-insensitive): the same item.
    const racing = statuses[0].id as string;
    t.equal((await office.request('GET', `/v1/inbox/${racing.toUpperCase()}`)).body.id, racing, 'an item read by its id in upper case');
    const acks = await Promise.all(Array.from({ length: 6 }, (_, i) => office.request('POST', `/v1/inbox/${i % 2 ? racing.toUpperCase() : racing}/ack`)));
    t.same([...new Set(acks.map((a) => a.status))], [200], 'every concurrent ack answered 200');
    const receipts = (await office.status(racing)).body.events.filter((e: any) => e.event === 'delivered');
    t.equal(receipts.length, 1, 'one delivered receipt on the timeline');

    const again = await postXml(fixture('document-new.xml'));
    t.equal(again.status, 409, 'the same DocumentId cannot be sent twice to the same recipient');
    t.match(await again.json(), { code: 'DOCUMENT_ALREADY_SENT' });
  });

  await t.test('a revoke after delivery reaches both recipients; they accept it (15) and nothing follows', async (t) => {
    const r = await postXml(fixture('document-revoke.xml'));
    t.equal(r.status, 202, JSON.stringify(await r.clone().json()));
    await eventually(() => docs('so-tp-qlvb').find((d) => d.businessDocType === 1));
    await eventually(() => docs('xa-hoaphuoc-qlvb').find((d) => d.businessDocType === 1));
    const view = await eventually(async () => {
      const v = await documentView(documentId);
      return v.body.recipients.every((rcp: any) => rcp.revoked) ? v.body : null;
    });
    for (const rcp of view.recipients) t.same(rcp.history.map((h: any) => h.code), ['03', '06', '13', '15'], `${rcp.member}: revoke requested (13) then accepted (15)`);
    t.same(view.packages.filter((p: any) => p.businessDocType === 1).length, 2, 'the revoke packages are listed with the document');

    const late = await bus.client('so-tp-qlvb').send({
      type: 'edoc.status',
      to: { member: '000.00.00.H49' },
      payload: { responseFor: { documentId }, from: { organId: '000.00.15.H49' }, statusCode: '05' },
    });
    t.equal(late.status, 409);
    t.match(late.body, { code: 'ILLEGAL_STATUS_TRANSITION', errors: [{ field: 'payload.statusCode', message: /revoked/ }] });
    const revokeAgain = await postXml(fixture('document-revoke.xml'));
    t.equal(revokeAgain.status, 409, 'a revoked document cannot be revoked again');
    t.match(await revokeAgain.json(), { code: 'ILLEGAL_STATUS_TRANSITION', errors: [{ field: 'edXMLHeader/TraceHeaderList/Bussiness/BussinessDocType' }] }, 'named as the element the package carries');
  });

  await t.test('status order is enforced per (document, recipient) before anything reaches Kafka', async (t) => {
    // so-tttt (simulated, push JSON) sends to the provincial office, which the test drives by hand.
    const sender = bus.client('so-tttt-qlvb');
    const id = '000.00.12.H49,2026/04/10,31/STTTT-BCVT';
    const sent = await sender.send({
      type: 'edoc.send',
      to: { member: '000.00.00.H49' },
      payload: {
        header: { from: { organId: '000.00.12.H49', organName: 'Sở Thông tin và Truyền thông' }, to: [{ organId: '000.00.00.H49' }], documentId: id, subject: 'Báo cáo tình hình bưu chính viễn thông quý I/2026' },
      },
    });
    t.equal(sent.status, 202, JSON.stringify(sent.body));
    t.notOk(sent.body.recipients, 'a single `to` keeps the single-recipient answer');
    const status = (code: string, client = office, organId = '000.00.00.H49') =>
      client.send({ type: 'edoc.status', to: { member: '000.00.12.H49' }, payload: { responseFor: { documentId: id }, from: { organId }, statusCode: code, description: `Trạng thái ${code}` } });
    const early = await status('06');
    t.equal(early.status, 409, '06 before 03');
    t.match(early.body, { code: 'ILLEGAL_STATUS_TRANSITION', errors: [{ field: 'payload.statusCode', message: /allowed now: 01, 02, 03/ }] });
    t.equal((await status('15')).status, 409, '15 with nothing pending');
    t.equal((await status('13')).status, 409, '13 is the bus\'s to record');
    t.equal((await status('03')).status, 202);
    t.equal((await status('02')).status, 409, 'refusing after receiving');
    t.equal((await status('04')).status, 202);
    t.equal((await status('06')).status, 202);
    t.equal((await status('05')).status, 409, 'nothing after completion');
    const stranger = await status('03', bus.client('so-tp-qlvb'), '000.00.15.H49');
    t.equal(stranger.status, 422, 'a member the document was not sent to');
    t.match(stranger.body, { code: 'DOCUMENT_NOT_FOUND', errors: [{ field: 'payload.responseFor.documentId' }] });
    const impostor = await status('03', office, '000.00.15.H49');
    t.equal(impostor.status, 403);
    t.match(impostor.body, { code: 'SENDER_MISMATCH', errors: [{ field: 'payload.from.organId' }] });
    const view = await documentView(id, sender);
    t.same(view.body.recipients[0].history.map((h: any) => h.code), ['03', '04', '06'], 'only the accepted packets count');
    t.ok(view.body.subject && view.body.recipients[0].history.every((h: any) => h.description), 'the sender sees the subject and the status descriptions');
    // The demo operator and observer systems belong to this sender's member (000.00.12.H49): they
    // follow the document, never its contents.
    for (const overseer of ['lgsp-operator', 'lgsp-observer']) {
      const seen = await documentView(id, bus.client(overseer));
      t.equal(seen.status, 200, `${overseer} follows the document`);
      t.notOk('subject' in seen.body, `${overseer}: no subject`);
      t.same(seen.body.recipients[0].history.map((h: any) => h.code), ['03', '04', '06'], `${overseer}: the statuses`);
      t.ok(seen.body.recipients[0].history.every((h: any) => !('description' in h)), `${overseer}: no status descriptions`);
    }
    const back = await eventually(() => {
      const list = docs('so-tttt-qlvb').filter((d) => d.type === 'edoc.status' && d.documentId === id);
      return list.length === 3 ? list : null;
    });
    t.same(back.map((d) => d.statusCode), ['03', '04', '06'], 'the accepted packets were pushed back to the sender, in order');
  });

  await t.test('several recipients, one down: the others are delivered, the down one retried then delivered', async (t) => {
    bus.qlvb.down.add('so-tttt-qlvb');
    const id = '000.00.00.H49,2026/04/12,140/UBND-KT';
    const to = ['000.00.12.H49', '000.00.15.H49', 'H49.242.10'];
    const submission = {
      type: 'edoc.send',
      to: to.map((member) => ({ member })),
      payload: {
        header: { from: { organId: '000.00.00.H49' }, to: to.map((organId) => ({ organId })), documentId: id, subject: 'Triển khai ứng dụng định danh điện tử trong giải quyết thủ tục hành chính' },
        attachments: [{ contentId: 'cid:kh.txt', name: 'Kế hoạch.txt', contentType: 'text/plain; charset=utf-8', content: Buffer.from('Kế hoạch triển khai (dữ liệu mẫu)').toString('base64') }],
      },
    };
    const r = await office.send(submission, 'kh-140-ubnd-kt');
    t.equal(r.status, 202, JSON.stringify(r.body));
    t.equal(r.body.recipients.length, 3);
    const replay = await office.send(submission, 'kh-140-ubnd-kt');
    t.equal(replay.status, 202, 'a retried submission with the same Idempotency-Key is answered again');
    t.same(replay.body, r.body, 'with the same message ids for every recipient');
    await eventually(() => docs('so-tp-qlvb').find((d) => d.documentId === id));
    await eventually(() => docs('xa-hoaphuoc-qlvb').find((d) => d.documentId === id));
    const downId = r.body.recipients.find((x: any) => x.member === '000.00.12.H49').id;
    await eventually(async () => (await office.status(downId)).body.events.some((e: any) => e.event === 'delivery_failed'));
    t.notOk(docs('so-tttt-qlvb').some((d) => d.documentId === id), 'not delivered while down');
    bus.qlvb.down.delete('so-tttt-qlvb');
    const view = await eventually(async () => {
      const v = await office.status(downId);
      return v.body.status === 'delivered' ? v.body : null;
    });
    t.ok(view.events.filter((e: any) => e.event === 'delivery_failed').length >= 1, 'retried');
    t.equal(docs('so-tttt-qlvb').filter((d) => d.documentId === id).length, 1, 'delivered once');
    const doc = await eventually(async () => {
      const v = await documentView(id);
      return v.body.recipients.every((rcp: any) => rcp.status === '06') ? v.body : null;
    });
    t.same(doc.recipients.map((x: any) => x.delivery), ['delivered', 'delivered', 'delivered']);
  });

  await t.test('a DocumentId sent again to a new recipient must carry the same document', async (t) => {
    const id = '000.00.00.H49,2026/04/14,152/UBND-VX';
    const attachment = (text: string) => ({ contentId: 'cid:tb.txt', name: 'Thông báo.txt', contentType: 'text/plain; charset=utf-8', content: Buffer.from(text).toString('base64') });
    const header = { from: { organId: '000.00.00.H49' }, documentId: id, code: { codeNumber: '152', codeNotation: 'UBND-VX' }, subject: 'Thông báo lịch tiếp công dân tháng 5/2026', content: 'Lịch tiếp công dân định kỳ' };
    const sendTo = (member: string, changes: { header?: Record<string, unknown>; attachmentText?: string } = {}) =>
      office.send({
        type: 'edoc.send',
        to: { member },
        payload: { header: { ...header, to: [{ organId: member }], ...changes.header }, attachments: [attachment(changes.attachmentText ?? 'Lịch tiếp công dân (dữ liệu mẫu)')] },
      });
    t.equal((await sendTo('000.00.12.H49')).status, 202);
    // The same document to a recipient that does not have it yet, with its own handling
    // instructions (a due date): accepted.
    const later = await sendTo('000.00.15.H49', { header: { dueDate: '2026/05/10', steeringType: 1 } });
    t.equal(later.status, 202, JSON.stringify(later.body));
    // The same DocumentId naming other content: refused before anything reaches Kafka.
    for (const [what, changes] of [
      ['another subject', { header: { subject: 'Thông báo lịch họp giao ban tháng 5/2026' } }],
      ['other content', { header: { content: 'Lịch tiếp công dân đột xuất' } }],
      ['another number', { header: { code: { codeNumber: '153', codeNotation: 'UBND-VX' } } }],
      ['other attachment bytes', { attachmentText: 'Lịch tiếp công dân (bản khác)' }],
    ] as const) {
      const reused = await sendTo('H49.242.10', changes);
      t.equal(reused.status, 409, `${what}: refused`);
      t.match(reused.body, { code: 'DOCUMENT_ID_REUSED', errors: [{ field: 'payload.header.documentId' }] });
    }
    const view = await documentView(id);
    t.equal(view.body.subject, header.subject, 'the document keeps its subject');
    t.same(view.body.recipients.map((r: any) => r.member), ['000.00.12.H49', '000.00.15.H49'], 'no recipient recorded for a refused package');
    t.equal((await sendTo('H49.242.10')).status, 202, 'the same document still goes to that recipient');
  });

  await t.test('update and replace reference the original DocumentId; recipients answer 15 and the document lives on', async (t) => {
    const id = '000.00.00.H49,2026/04/12,140/UBND-KT';
    const header = (documentId: string, to: string[]) => ({ from: { organId: '000.00.00.H49' }, to: to.map((organId) => ({ organId })), documentId, subject: 'Triển khai ứng dụng định danh điện tử (điều chỉnh)' });
    const update = await office.send({
      type: 'edoc.send',
      to: [{ member: '000.00.15.H49' }],
      payload: { header: header(id, ['000.00.15.H49']), traceHeaderList: { bussiness: { bussinessDocType: 2, bussinessDocReason: 'Cập nhật phụ lục kèm theo', documentId: id } } },
    });
    t.equal(update.status, 202, JSON.stringify(update.body));
    const newId = '000.00.00.H49,2026/04/13,141/UBND-KT';
    const sameId = await office.send({
      type: 'edoc.send',
      to: [{ member: 'H49.242.10' }],
      payload: { header: header(id, ['H49.242.10']), traceHeaderList: { bussiness: { bussinessDocType: 3, documentId: id } } },
    });
    t.match(sameId.body, { code: 'REPLACEMENT_NEEDS_NEW_ID', errors: [{ field: 'payload.header.documentId' }] });
    const replace = await office.send({
      type: 'edoc.send',
      to: [{ member: 'H49.242.10' }],
      payload: { header: header(newId, ['H49.242.10']), traceHeaderList: { bussiness: { bussinessDocType: 3, documentId: id, replacementInfoList: [{ documentId: id, organIdList: ['H49.242.10'] }] } } },
    });
    t.equal(replace.status, 202, JSON.stringify(replace.body));
    const view = await eventually(async () => {
      const v = await documentView(id);
      const changed = v.body.recipients.filter((r: any) => r.history.some((h: any) => h.code === '15'));
      return changed.length === 2 ? v.body : null;
    });
    for (const member of ['000.00.15.H49', 'H49.242.10']) {
      const row = view.recipients.find((r: any) => r.member === member);
      t.same(row.history.map((h: any) => h.code), ['03', '06', '15'], `${member}: accepted the change`);
      t.match(row, { revoked: false, pending: null, status: '06' });
    }
    t.same(view.recipients.find((r: any) => r.member === '000.00.12.H49').history.map((h: any) => h.code), ['03', '06'], 'the recipient left out is untouched');
    const replacement = await eventually(async () => {
      const v = await documentView(newId);
      return v.body.recipients?.[0]?.status === '06' ? v.body : null;
    });
    t.same(replacement.recipients[0].history.map((h: any) => h.code), ['03', '06'], 'the replacing document has its own life');
  });

  await t.test('attachments: uploads, digests checked at submission, a corrupted attachment is dead-lettered, never delivered', async (t) => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.write(`khối ${i} — dữ liệu mẫu\n`, i);
    const started = Date.now();
    const upload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: big });
    const uploaded = await upload.json();
    t.equal(upload.status, 201);
    t.same(uploaded, { sha256: sha256(big), size: big.length, href: `/v1/attachments/${sha256(big)}` });
    const uploadTooBig = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(8 * 1024 * 1024 + 1) });
    t.equal(uploadTooBig.status, 413, 'an upload over attachmentMaxBytes');
    t.match(await uploadTooBig.json(), { code: 'PAYLOAD_TOO_LARGE', detail: /8388608/ }, 'names the upload limit, not the JSON body limit');
    // Bytes are bytes whatever type the client declares: a PDF as application/pdf, an XML file as
    // application/xml (never parsed as edXML here), none at all.
    for (const [type, bytes] of [['application/pdf', Buffer.from('%PDF-1.7 mẫu')], ['application/xml', Buffer.from('<BienBan>không phải edXML</BienBan>')], [undefined, Buffer.from('không khai báo')]] as const) {
      const r = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) }, body: bytes });
      t.equal(r.status, 201, `uploaded as ${type ?? 'no content type'}`);
      t.match(await r.json(), { sha256: sha256(bytes), size: bytes.length });
    }
    const id = '000.00.00.H49,2026/04/15,152/QĐ-UBND';
    const send = (documentId: string, attachments: unknown[], to = ['000.00.15.H49', 'H49.242.10']) =>
      office.send({
        type: 'edoc.send',
        to: to.map((member) => ({ member })),
        payload: { header: { from: { organId: '000.00.00.H49' }, to: to.map((organId) => ({ organId })), documentId, subject: 'Quyết định phê duyệt hồ sơ thiết kế (kèm bản vẽ)' }, attachments },
      });
    const r = await send(id, [{ contentId: 'cid:ban-ve.pdf', name: 'Bản vẽ.pdf', contentType: 'application/pdf', sha256: uploaded.sha256, size: uploaded.size }]);
    t.equal(r.status, 202, JSON.stringify(r.body));
    const pushed = await eventually(() => docs('so-tp-qlvb').find((d) => d.documentId === id), 30_000);
    const pulled = await eventually(() => docs('xa-hoaphuoc-qlvb').find((d) => d.documentId === id), 30_000);
    t.comment(`5 MB attachment: upload to both recipients verified in ${Date.now() - started} ms`);
    for (const d of [pushed, pulled]) t.match(d.attachments, [{ sha256: sha256(big), size: big.length, verified: true }], `${d.via}/${d.format}: 5 MB attachment intact`);
    // Attachments are contents: the parties' agency systems download them, operators never do.
    const asRecipient = await fetch(`${bus.gateway.url}/v1/attachments/${uploaded.sha256}`, { method: 'HEAD', headers: { authorization: `Bearer ${await bus.client('xa-hoaphuoc-qlvb').accessToken()}` } });
    t.equal(asRecipient.status, 200, 'a recipient may download it');
    for (const overseer of ['lgsp-operator', 'lgsp-observer']) {
      const r = await fetch(`${bus.gateway.url}/v1/attachments/${uploaded.sha256}`, { headers: { authorization: `Bearer ${await bus.client(overseer).accessToken()}` } });
      t.equal(r.status, 403, `${overseer} may not`);
      t.match(await r.json(), { code: 'ROLE_REQUIRED' });
    }

    const wrongDigest = await send('000.00.00.H49,2026/04/15,153/QĐ-UBND', [{ contentId: 'cid:a', name: 'a.txt', contentType: 'text/plain', content: Buffer.from('abc').toString('base64'), sha256: '0'.repeat(64) }]);
    t.equal(wrongDigest.status, 422);
    t.match(wrongDigest.body, { code: 'ATTACHMENT_DIGEST_MISMATCH', errors: [{ field: 'payload.attachments[0].sha256' }] });
    // Both were accepted and then dead-lettered at every edXML receiver (its decoder refuses them).
    const a64 = Buffer.from('abc').toString('base64');
    for (const [label, contentId] of [['cid: and <>', '<a>'], ['cid: and bare', 'a']]) {
      const twice = await send('000.00.00.H49,2026/04/15,156/QĐ-UBND', [
        { contentId: 'cid:a', name: 'a.txt', contentType: 'text/plain', content: a64 },
        { contentId, name: 'b.txt', contentType: 'text/plain', content: Buffer.from('def').toString('base64') },
      ]);
      t.equal(twice.status, 400, `${label}: one id twice`);
      t.match(twice.body, { code: 'DUPLICATE_ATTACHMENT', errors: [{ field: 'payload.attachments[1].contentId' }] });
    }
    const empty = await send('000.00.00.H49,2026/04/15,156/QĐ-UBND', [{ contentId: 'cid:a', name: 'a.txt', contentType: 'text/plain', content: '' }]);
    t.equal(empty.status, 400, 'an attachment without content');
    t.match(empty.body, { code: 'VALIDATION_FAILED', errors: [{ field: 'payload.attachments[0].content' }] });
    const noId = await send('000.00.00.H49,2026/04/15,156/QĐ-UBND', [{ contentId: 'cid:', name: 'a.txt', contentType: 'text/plain', content: a64 }]);
    t.match(noId.body, { code: 'VALIDATION_FAILED', errors: [{ field: 'payload.attachments[0].contentId' }] });
    // The attachment checks run before the payload schema: a contentId that is no string, or
    // none at all, is the schema's to name (it once reached a string method: 500).
    for (const contentId of [null, 7, ['cid:a'], { id: 'a' }, undefined]) {
      const odd = await send('000.00.00.H49,2026/04/15,156/QĐ-UBND', [{ contentId, name: 'a.txt', contentType: 'text/plain', content: a64 }]);
      t.equal(odd.status, 400, `contentId ${JSON.stringify(contentId)}`);
      t.match(odd.body, { code: 'VALIDATION_FAILED', errors: [{ field: /^payload\.attachments\[0\]/ }] });
    }
    t.equal((await documentView('000.00.00.H49,2026/04/15,156/QĐ-UBND')).status, 404, 'nothing of them is kept');
    const unknown = await send('000.00.00.H49,2026/04/15,154/QĐ-UBND', [{ contentId: 'cid:a', name: 'a.txt', contentType: 'text/plain', sha256: 'a'.repeat(64), size: 3 }]);
    t.match(unknown.body, { code: 'ATTACHMENT_NOT_FOUND' });
    const tooBig = await send('000.00.00.H49,2026/04/15,155/QĐ-UBND', [
      { contentId: 'cid:1', name: '1.pdf', contentType: 'application/pdf', sha256: uploaded.sha256, size: uploaded.size },
      { contentId: 'cid:2', name: '2.pdf', contentType: 'application/pdf', sha256: uploaded.sha256, size: uploaded.size },
    ]);
    t.equal(tooBig.status, 413);
    t.match(tooBig.body, { code: 'ATTACHMENTS_TOO_LARGE' });
    t.equal((await documentView('000.00.00.H49,2026/04/15,155/QĐ-UBND')).status, 404, 'a refused package leaves no document behind');

    // An attachment corrupted in the store after upload: the submission is accepted (the gateway
    // checks presence and size), the delivery fails with the reason and nothing reaches the recipient.
    const bytes2 = Buffer.from('Biên bản nghiệm thu lần 2 (dữ liệu mẫu)');
    const upload2 = await (await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: bytes2 })).json();
    await bus.db.query('UPDATE attachment_blobs SET content = $1 WHERE sha256 = $2', [Buffer.alloc(bytes2.length, 0x41), upload2.sha256]);
    const corrupt = await send('000.00.00.H49,2026/04/16,161/QĐ-UBND', [{ contentId: 'cid:bb2.txt', name: 'Biên bản 2.txt', contentType: 'text/plain', sha256: upload2.sha256, size: upload2.size }], ['H49.242.10']);
    t.equal(corrupt.status, 202);
    const dead = await eventually(async () => {
      const v = await office.status(corrupt.body.id);
      return v.body.status === 'dead_lettered' ? v.body : null;
    });
    t.match(dead.events.find((e: any) => e.event === 'dead_lettered').detail.reason, /corrupted/, 'the reason names the corrupted attachment');
    t.notOk(docs('xa-hoaphuoc-qlvb').some((d) => d.documentId === '000.00.00.H49,2026/04/16,161/QĐ-UBND'), 'never delivered');
    const download = await fetch(`${bus.gateway.url}/v1/attachments/${upload2.sha256}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(download.status, 502, 'the gateway will not hand out corrupted bytes either');
    t.match(await download.json(), { code: 'ATTACHMENT_CORRUPTED' });
  });

  await t.test('hostile and malformed XML is refused with problem+json, unauthenticated XML is not even parsed', async (t) => {
    for (const [name, code] of [['hostile-xxe.xml', 'XML_FORBIDDEN_CONSTRUCT'], ['hostile-billion-laughs.xml', 'XML_FORBIDDEN_CONSTRUCT'], ['hostile-undeclared-entity.xml', 'XML_FORBIDDEN_CONSTRUCT']] as const) {
      const r = await postXml(fixture(name));
      t.equal(r.status, 400, name);
      t.match(r.headers.get('content-type'), /application\/problem\+json/);
      t.match(await r.json(), { code, status: 400, type: String, title: String, detail: String });
    }
    const deep = '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">' + '<a>'.repeat(2000) + '</a>'.repeat(2000) + '</edXML:edXMLEnvelope>';
    t.match(await (await postXml(deep)).json(), { code: 'XML_TOO_DEEP' });
    t.match(await (await postXml('<edXML:edXMLEnvelope')).json(), { code: 'XML_MALFORMED' });
    const repeated = fixture('document-revoke.xml').toString().replace('<edXML:Subject>', '<edXML:Subject>x</edXML:Subject><edXML:Subject>');
    t.match(await (await postXml(repeated)).json(), { code: 'EDXML_INVALID', errors: [{ field: 'edXMLHeader/MessageHeader/Subject' }] });
    // No To, or a To without its OrganId: the element is named, not the submission schema's oneOf.
    const noTo = fixture('document-new.xml').toString().replace(/<edXML:To>[\s\S]*?<\/edXML:To>\s*/g, '');
    const noToAnswer = await postXml(noTo);
    t.equal(noToAnswer.status, 400, 'a document without To');
    t.same((await noToAnswer.json()).errors, [{ field: 'edXMLHeader/MessageHeader/To', message: 'at least one To/OrganId is required' }]);
    const emptyOrgan = fixture('document-new.xml').toString().replace('<edXML:OrganId>H49.242.10</edXML:OrganId>', '<edXML:OrganId/>');
    const emptyOrganAnswer = await postXml(emptyOrgan);
    t.equal(emptyOrganAnswer.status, 400, 'a To with an empty OrganId');
    t.same((await emptyOrganAnswer.json()).errors, [{ field: 'edXMLHeader/MessageHeader/To[2]/OrganId', message: 'To/OrganId is required' }]);
    // A To naming no member of the directory: its OrganId element, not the JSON route's to[1].member.
    const unknownOrgan = await postXml(fixture('document-new.xml').toString().replace('<edXML:OrganId>H49.242.10</edXML:OrganId>', '<edXML:OrganId>000.99.99.H49</edXML:OrganId>'));
    t.equal(unknownOrgan.status, 422, 'a To that is no member');
    t.match(await unknownOrgan.json(), { code: 'UNKNOWN_MEMBER', errors: [{ field: 'edXMLHeader/MessageHeader/To[2]/OrganId', message: 'unknown member' }] });
    // Schema refusals of a package posted as XML name its elements (the JSON form it was read
    // into is the bus's business, not the vendor's).
    const document = fixture('document-new.xml').toString();
    const noSubject = await postXml(document.replace(/<edXML:Subject>[\s\S]*?<\/edXML:Subject>/, '<edXML:Subject></edXML:Subject>'));
    t.equal(noSubject.status, 400, 'an empty Subject');
    const noSubjectBody = await noSubject.json();
    t.same(noSubjectBody.errors, [{ field: 'edXMLHeader/MessageHeader/Subject', message: 'is required (missing or empty)' }]);
    t.match(noSubjectBody.detail, /edXMLHeader\/MessageHeader\/Subject is required/);
    t.notMatch(noSubjectBody.detail, /payload\./, 'no JSON field in the detail');
    // An element in another namespace is not the edXML one; the refusal says what is there.
    const foreignFrom = await (await postXml(document.replace('<edXML:From>', '<edXML:From xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2010">'))).json();
    t.match(foreignFrom, { code: 'VALIDATION_FAILED', errors: [{ field: 'edXMLHeader/MessageHeader/From', message: 'is required (missing or empty): the From element there is in namespace http://www.mic.gov.vn/TBT/QCVN_102_2010, not in the edXML namespace http://www.mic.gov.vn/TBT/QCVN_102_2016' }] });
    t.match(foreignFrom.detail, /MessageHeader\/From is required \(missing or empty\): the From element there is in namespace/, 'the detail too');
    const foreignTos = await postXml(document.replace(/<edXML:To>([\s\S]*?)<\/edXML:To>/g, '<To xmlns="urn:agency-own">$1</To>'));
    t.equal(foreignTos.status, 400, 'every To in another namespace: no recipient');
    t.match(await foreignTos.json(), { detail: /at least one edXMLHeader\/MessageHeader\/To\/OrganId: the To element there is in namespace urn:agency-own/, errors: [{ field: 'edXMLHeader/MessageHeader/To', message: /^at least one To\/OrganId is required: the To element there is in namespace urn:agency-own/ }] });
    const badDate = await (await postXml(document.replace('<edXML:PromulgationDate>2026/03/05', '<edXML:PromulgationDate>05-03-2026'))).json();
    t.match(badDate, { code: 'VALIDATION_FAILED', errors: [{ field: 'edXMLHeader/MessageHeader/PromulgationInfo/PromulgationDate', message: /^must be a date written YYYY\/MM\/DD/ }] });
    const noSuchDay = await postXml(document.replace('<edXML:PromulgationDate>2026/03/05', '<edXML:PromulgationDate>2026/02/31'));
    t.equal(noSuchDay.status, 400, 'a date that is not on the calendar');
    t.same((await noSuchDay.json()).errors, [{ field: 'edXMLHeader/MessageHeader/PromulgationInfo/PromulgationDate', message: '2026/02/31 is not a calendar date (YYYY/MM/DD)' }]);
    const jsonDates = await office.send({
      type: 'edoc.send',
      to: { member: '000.00.15.H49' },
      payload: { header: { from: { organId: '000.00.00.H49' }, to: [{ organId: '000.00.15.H49' }], documentId: '000.00.00.H49,2026/99/99,171/UBND-VX', subject: 'Ngày', dueDate: '0000/00/00' }, traceHeaderList: { traceHeaders: [{ organId: '000.00.00.H49', timestamp: '2026/05/02 25:61:61' }] } },
    });
    t.equal(jsonDates.status, 400, 'impossible dates in the JSON form');
    t.same((jsonDates.body.errors as { field: string }[]).map((e) => e.field).sort(), ['payload.header.documentId', 'payload.header.dueDate', 'payload.traceHeaderList.traceHeaders[0].timestamp']);
    // A status packet about a document the bus never carried: refused as such, naming its element.
    const unknownStatus = await postXml(fixture('status-received.xml').toString()
      .replace(/000\.00\.00\.H49,2026\/03\/05,125\/QĐ-UBND/, '000.00.00.H49,2026/03/05,999/KHONG-CO')
      .replace('<edXML:OrganId>000.00.00.H49</edXML:OrganId>', '<edXML:OrganId>000.00.00.G22</edXML:OrganId>'));
    t.equal(unknownStatus.status, 422, 'a status about an unknown document');
    t.match(await unknownStatus.json(), { code: 'DOCUMENT_NOT_FOUND', errors: [{ field: 'edXMLHeader/Status/ResponseFor/DocumentId' }] });
    const longCode = await (await postXml(document.replace('<edXML:CodeNumber>125', `<edXML:CodeNumber>${'1'.repeat(60)}`))).json();
    t.match(longCode, { errors: [{ field: 'edXMLHeader/MessageHeader/Code/CodeNumber' }] });
    const oversized = await postXml('<a>' + 'x'.repeat(14 * 1024 * 1024) + '</a>');
    t.equal(oversized.status, 413);
    t.match(await oversized.json(), { code: 'PAYLOAD_TOO_LARGE', detail: /edXML body exceeds the limit of \d+ bytes/ });
    t.equal((await postXml(fixture('hostile-xxe.xml'), null)).status, 401);
    // JSON that edXML could not carry is refused at the door, not dead-lettered later.
    const bell = await office.send({
      type: 'edoc.send',
      to: { member: '000.00.15.H49' },
      payload: { header: { from: { organId: '000.00.00.H49' }, to: [{ organId: '000.00.15.H49' }], documentId: '000.00.00.H49,2026/05/02,170/UBND-VX', subject: 'Chuông \u0007 báo' } },
    });
    t.equal(bell.status, 400);
    t.match(bell.body, { code: 'EDXML_NOT_REPRESENTABLE', errors: [{ field: 'payload.header.subject' }] });
    const injected = await office.send({
      type: 'edoc.send',
      to: { member: '000.00.15.H49' },
      payload: { header: { from: { organId: '000.00.00.H49' }, to: [{ organId: '000.00.15.H49' }], documentId: '000.00.00.H49,2026/05/02,171/UBND-VX', subject: 'Chữ ký' }, signature: '<x/></edXML:edXMLHeader><edXML:Evil/>' },
    });
    t.match(injected.body, { code: 'EDXML_NOT_REPRESENTABLE', errors: [{ field: 'payload.signature' }] });
  });
});
