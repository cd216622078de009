// A status packet's ResponseFor/OrganId names the organisation that sent the document it is about.
// The bus routes the packet by ResponseFor/DocumentId, so a packet naming another organisation
// was carried as written, and the sender's QLVB, which matches packets to its documents by that
// pair, filed it under a document it never sent or dropped it. Such a packet is refused, in the
// JSON form and in the edXML form, naming the element; one naming the sender goes through.
import t from 'tap';
import { startEdocBus } from './helpers/edoc-bus.js';

const DOCUMENT_ID = '000.00.12.H49,2026/04/11,32/STTTT-BCVT';
const SENDER = '000.00.12.H49';
const OFFICE = '000.00.00.H49';

const statusXml = (organId: string, code: string) => `<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLHeader>
    <edXML:Status>
      <edXML:ResponseFor>
        <edXML:OrganId>${organId}</edXML:OrganId>
        <edXML:DocumentId>${DOCUMENT_ID}</edXML:DocumentId>
      </edXML:ResponseFor>
      <edXML:From><edXML:OrganId>${OFFICE}</edXML:OrganId><edXML:OrganName>Văn phòng UBND tỉnh</edXML:OrganName></edXML:From>
      <edXML:StatusCode>${code}</edXML:StatusCode>
      <edXML:Timestamp>2026/04/11 09:00:00</edXML:Timestamp>
    </edXML:Status>
  </edXML:edXMLHeader>
  <edXML:edXMLBody/>
</edXML:edXMLEnvelope>`;

t.test('a status packet whose ResponseFor/OrganId is not the document\'s sender is refused', async (t) => {
  const bus = await startEdocBus(t, { name: 'status-organ' });
  const office = bus.client('vp-ubnd-qlvb');
  const sent = await bus.client('so-tttt-qlvb').send({
    type: 'edoc.send',
    to: { member: OFFICE },
    payload: { header: { from: { organId: SENDER, organName: 'Sở Thông tin và Truyền thông' }, to: [{ organId: OFFICE }], documentId: DOCUMENT_ID, subject: 'Báo cáo quý I/2026' } },
  });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  const status = (organId: string | undefined, code: string) =>
    office.send({ type: 'edoc.status', to: { member: SENDER }, payload: { responseFor: { documentId: DOCUMENT_ID, ...(organId ? { organId } : {}) }, from: { organId: OFFICE }, statusCode: code } });

  const wrong = await status('000.00.15.H49', '03');
  t.equal(wrong.status, 422, JSON.stringify(wrong.body));
  t.match(wrong.body, { code: 'STATUS_RECIPIENT_MISMATCH', errors: [{ field: 'payload.responseFor.organId', message: /000\.00\.12\.H49/ }] });
  t.match(wrong.body.detail, /ResponseFor\/OrganId 000\.00\.15\.H49.*sent by 000\.00\.12\.H49/);

  const token = await office.accessToken();
  const postXml = (xml: string) => fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml', authorization: `Bearer ${token}` }, body: xml });
  const wrongXml = await postXml(statusXml('000.00.15.H49', '03'));
  const wrongXmlBody = await wrongXml.json();
  t.equal(wrongXml.status, 422, JSON.stringify(wrongXmlBody));
  t.match(wrongXmlBody, { code: 'STATUS_RECIPIENT_MISMATCH', errors: [{ field: 'edXMLHeader/Status/ResponseFor/OrganId' }] }, 'named as the element the packet carries');

  const history = async () => (await bus.client('so-tttt-qlvb').request('GET', `/v1/documents/${encodeURIComponent(DOCUMENT_ID)}`)).body.recipients[0].history.map((h: any) => h.code);
  t.same(await history(), [], 'neither refused packet was recorded');

  t.equal((await postXml(statusXml(SENDER, '03'))).status, 202, 'naming the sender: accepted');
  t.equal((await status(undefined, '04')).status, 202, 'without ResponseFor/OrganId (the JSON form may leave it out): accepted');
  t.same(await history(), ['03', '04']);
});
