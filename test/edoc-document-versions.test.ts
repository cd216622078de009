// What GET /v1/documents shows of the packages that change a document:
//  - a revoke (or update) with a DocumentId of its own is found under that id, naming the
//    document it revokes (it was 404: only documents were looked up, and a change is a package
//    about one); a stranger is refused it on its own rows, before any package is read;
//  - after an update (BussinessDocType 2) each caller sees the subject of the latest version
//    sent to them: the recipient the update went to sees its subject, the others keep the one
//    they got, and the sender sees, per recipient, what each has (the view kept the first subject);
//  - a replacement posted as edXML under the replaced DocumentId is refused naming the elements
//    the vendor wrote, in the detail too (which named the JSON path).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startEdocBus } from './helpers/edoc-bus.js';

const OFFICE = '000.00.00.H49';
const TP = '000.00.15.H49';
const XA = 'H49.242.10';
const DOCUMENT_ID = '000.00.00.H49,2026/04/20,160/UBND-KT';
const UPDATE_ID = '000.00.00.H49,2026/04/21,161/UBND-KT';
const REVOKE_ID = '000.00.00.H49,2026/04/22,162/UBND-KT';
const FIRST = 'Kế hoạch kiểm tra công tác cải cách hành chính năm 2026';
const UPDATED = 'Kế hoạch kiểm tra công tác cải cách hành chính năm 2026 (điều chỉnh lịch kiểm tra)';
const REVOKING = 'Thu hồi Kế hoạch số 160/UBND-KT';

t.test('revokes under their own DocumentId; the subject of the version each caller got', async (t) => {
  const bus = await startEdocBus(t, { name: 'edoc-versions' });
  const office = bus.client('vp-ubnd-qlvb');
  const view = (id: string, client = office) => client.request('GET', `/v1/documents/${encodeURIComponent(id)}`);
  const header = (documentId: string, to: string[], subject: string) => ({ from: { organId: OFFICE }, to: to.map((organId) => ({ organId })), documentId, subject });

  const sent = await office.send({ type: 'edoc.send', to: [{ member: TP }, { member: XA }], payload: { header: header(DOCUMENT_ID, [TP, XA], FIRST) } });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const update = await office.send({
    type: 'edoc.send',
    to: [{ member: TP }],
    payload: { header: header(UPDATE_ID, [TP], UPDATED), traceHeaderList: { bussiness: { bussinessDocType: 2, bussinessDocReason: 'Điều chỉnh lịch kiểm tra', documentId: DOCUMENT_ID } } },
  });
  t.equal(update.status, 202, JSON.stringify(update.body));
  const revoke = await office.send({
    type: 'edoc.send',
    to: [{ member: XA }],
    payload: { header: header(REVOKE_ID, [XA], REVOKING), traceHeaderList: { bussiness: { bussinessDocType: 1, bussinessDocReason: 'Ban hành nhầm', documentId: DOCUMENT_ID } } },
  });
  t.equal(revoke.status, 202, JSON.stringify(revoke.body));

  await t.test('each caller sees the subject of the latest version sent to it', async (t) => {
    const bySender = await view(DOCUMENT_ID);
    t.equal(bySender.status, 200, JSON.stringify(bySender.body));
    t.equal(bySender.body.subject, UPDATED, 'the sender: the latest version');
    t.same(bySender.body.recipients.map((r: any) => [r.member, r.subject]), [[TP, UPDATED], [XA, FIRST]], 'the sender: what each recipient has');
    const byTp = await view(DOCUMENT_ID, bus.client('so-tp-qlvb'));
    t.equal(byTp.body.subject, UPDATED, 'the recipient of the update');
    const byXa = await view(DOCUMENT_ID, bus.client('xa-hoaphuoc-qlvb'));
    t.equal(byXa.body.subject, FIRST, 'a recipient the update did not go to keeps the subject it got');
    t.notOk(JSON.stringify(byXa.body).includes(UPDATED), 'nothing of the update shows to it');
  });

  await t.test('a revoke and an update are found under their own DocumentId, naming the document they change', async (t) => {
    const bySender = await view(REVOKE_ID);
    t.equal(bySender.status, 200, JSON.stringify(bySender.body));
    t.match(bySender.body, { documentId: REVOKE_ID, from: { member: OFFICE }, businessDocType: 1, subject: REVOKING, revokes: { documentId: DOCUMENT_ID, href: `/v1/documents/${encodeURIComponent(DOCUMENT_ID)}` } });
    t.same(bySender.body.packages.map((p: any) => [p.to, p.documentId, p.packageDocumentId]), [[XA, DOCUMENT_ID, REVOKE_ID]]);
    const byXa = await view(REVOKE_ID, bus.client('xa-hoaphuoc-qlvb'));
    t.equal(byXa.status, 200, 'its recipient finds it too');
    t.match(byXa.body, { documentId: REVOKE_ID, revokes: { documentId: DOCUMENT_ID } });
    const byTp = await view(REVOKE_ID, bus.client('so-tp-qlvb'));
    t.equal(byTp.status, 404, 'a recipient of the original the revoke did not go to: not found');
    t.match(byTp.body, { code: 'DOCUMENT_NOT_FOUND' });
    const updated = await view(UPDATE_ID, bus.client('so-tp-qlvb'));
    t.equal(updated.status, 200, JSON.stringify(updated.body));
    t.match(updated.body, { documentId: UPDATE_ID, businessDocType: 2, subject: UPDATED, updates: { documentId: DOCUMENT_ID } });
    t.equal((await view(UPDATE_ID, bus.client('xa-hoaphuoc-qlvb'))).status, 404, 'the update is not shown to who did not get it');
  });

  await t.test('a stranger is refused a revoke on its own rows, as an unknown id, without its packages being read', async (t) => {
    const stranger = await bus.client('so-tttt-qlvb').accessToken();
    const ask = (documentId: string) =>
      fetch(`${bus.gateway.url}/v1/documents/${encodeURIComponent(documentId)}`, { headers: { authorization: `Bearer ${stranger}` }, signal: AbortSignal.timeout(3000) })
        .then(async (res) => ({ status: res.status, body: await res.json() }))
        .catch((err: Error) => ({ status: 0, body: { error: err.name } }));
    // Packages and history held by a transaction of the test's own: a request reading them waits.
    const holder = await bus.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE document_history, document_packages IN ACCESS EXCLUSIVE MODE');
      const unknown = await ask('000.00.00.H49,2026/04/22,999/UBND-KT');
      t.equal(unknown.status, 404, 'an unknown id: 404 at once');
      const foreign = await ask(REVOKE_ID);
      t.equal(foreign.status, 404, 'a revoke the caller may not see: 404 at once too');
      t.same(Object.keys(foreign.body).sort(), Object.keys(unknown.body).sort(), 'the same answer');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  await t.test('a replacement posted as edXML under the replaced DocumentId names the elements', async (t) => {
    const xml = readFileSync(new URL('./fixtures/edxml/document-revoke.xml', import.meta.url), 'utf8')
      .replace('<edXML:BussinessDocType>1</edXML:BussinessDocType>', '<edXML:BussinessDocType>3</edXML:BussinessDocType>');
    const token = await office.accessToken();
    const res = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml', authorization: `Bearer ${token}` }, body: xml });
    const body = await res.json();
    t.equal(res.status, 422, JSON.stringify(body));
    t.match(body, { code: 'REPLACEMENT_NEEDS_NEW_ID', errors: [{ field: 'edXMLHeader/MessageHeader/DocumentId', message: /TraceHeaderList\/Bussiness\/DocumentId/ }] });
    t.match(body.detail, /edXMLHeader\/TraceHeaderList\/Bussiness\/DocumentId/);
    t.notMatch(JSON.stringify(body), /traceHeaderList|payload\./, 'no JSON path');
  });
});
