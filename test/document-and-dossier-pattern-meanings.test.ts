// Values of the wrong form in documents and dossiers are refused saying what the value must be.
// A QLVB system writing a date the Vietnamese way (10/05/2026) or as an ISO date, or a one-stop
// system sending a procedure code without its dot, was answered with the schema's regular
// expression ("must match pattern \"^[0-9]{4}/[0-9]{2}/[0-9]{2}$\""), which a vendor's support
// desk cannot act on.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBus } from './helpers/test-bus.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');

t.test('edXML and dossier fields of the wrong form are explained, not quoted as a regular expression', async (t) => {
  const bus = await startTestBus(t, { name: 'pattern-meanings', runner: false });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const refusal = async (res: { status: number; body: { code: string; detail: string; errors: { field: string; message: string }[] } }, what: string) => {
    t.equal(res.status, 400, what);
    t.equal(res.body.code, 'VALIDATION_FAILED', what);
    t.notMatch(res.body.detail, /pattern|\^\[/, `${what}: no regular expression (${res.body.detail})`);
    return res.body.errors;
  };
  const postXml = async (xml: string) => {
    const res = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, body: xml });
    return { status: res.status, body: await res.json() };
  };

  t.match(sdkPackage, /<edXML:PromulgationDate>2026\/05\/04</, 'the fixture has the date to change');
  const vietnameseDate = await postXml(sdkPackage.replace(/<edXML:PromulgationDate>2026\/05\/04</, '<edXML:PromulgationDate>04/05/2026<'));
  t.match(await refusal(vietnameseDate, 'a date written DD/MM/YYYY'), [{ field: 'edXMLHeader/MessageHeader/PromulgationInfo/PromulgationDate', message: /^must be a date written YYYY\/MM\/DD, e\.g\. 2026\/03\/05/ }]);

  const header = { from: { organId: '000.00.00.H49' }, to: [{ organId: '000.00.15.H49' }], documentId: '000.00.00.H49,2026/04/22,18/VP-TH', subject: 'Thử' };
  const isoDocumentId = await office.send({ type: 'edoc.send', to: [{ member: '000.00.15.H49' }], payload: { header: { ...header, documentId: '000.00.00.H49,2026-04-22,18/VP-TH' } } } as never);
  t.match(await refusal(isoDocumentId, 'a DocumentId with an ISO date'), [{ field: 'payload.header.documentId', message: /^must be a DocumentId: <sender's agency code>,<YYYY\/MM\/DD>,<number\/notation>/ }]);

  const oneStop = bus.client('so-tp-motcua');
  const dossier = {
    dossierCode: '000.00.15.H49-260115-0001', procedureCode: '1.001234', sectorCode: 'LLTP',
    applicant: { name: 'Nguyễn Văn An', kind: 'citizen' }, receivedAt: '2026-01-15T08:30:00+07:00', dueAt: '2026-01-29T17:00:00+07:00', status: 'accepted',
  };
  const sync = (payload: Record<string, unknown>) => oneStop.send({ type: 'dossier.sync', to: { member: '000.00.00.G22', service: 'dvcqg-dossier' }, payload: { ...dossier, ...payload } } as never);
  t.match(await refusal(await sync({ procedureCode: '1001234' }), 'a procedure code without its dot'), [{ field: 'payload.procedureCode', message: /^must be a procedure code \(MaTTHC\).*e\.g\. 1\.001234/ }]);
  t.match(await refusal(await sync({ dossierCode: 'HS 0001' }), 'a dossier code with a space'), [{ field: 'payload.dossierCode', message: /^must be a dossier code \(MaHoSo\)/ }]);
  t.match(await refusal(await sync({ applicant: { name: 'Nguyễn Văn An', kind: 'citizen', idNumber: '001 090 000 123' } }), 'an id number with spaces'), [{ field: 'payload.applicant.idNumber', message: /^must be 6 to 20 digits or capital letters, without spaces/ }]);
});
