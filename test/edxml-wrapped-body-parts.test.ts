// A SOAP package whose manifest and attachments sit inside an operation element
// (<soap:Body><ed:SendDocument>…</ed:SendDocument></soap:Body>, as some SOAP toolkits write a
// call) was read without them: the wrapper rode along as an unknown element, the receiver got a
// document without attachments and no digest was compared. It is now refused, naming where the
// manifest was found and where it belongs; the same parts directly in soap Body are read.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEdxml, EdxmlError } from '../services/edxml/edxml-codec.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', name), 'utf8');
const soap = fixture('document-soap.xml');
const full = fixture('document-new.xml');
// The manifest (inside edXMLBody) and the encoded attachments of the plain package.
const bodyParts = full.slice(full.indexOf('<edXML:edXMLManifest>'), full.indexOf('</edXML:edXMLBody>'))
  + full.slice(full.indexOf('<edXML:AttachmentEncoded>'), full.indexOf('</edXML:edXMLEnvelope>'));
// The header's To and DocumentId stay the SOAP fixture's; the attachments are the plain package's.
const withBody = (body: string) => soap.replace('<soap-env:Body/>', `<soap-env:Body>${body}</soap-env:Body>`);

t.test('manifest and attachments directly in soap Body are read', async (t) => {
  const { payload } = decodeEdxml(withBody(bodyParts));
  const attachments = (payload as { attachments?: { name: string }[] }).attachments ?? [];
  t.same(attachments.map((a) => a.name), ['125-QĐ-UBND.pdf', 'Phụ lục danh sách đơn vị.txt']);
});

t.test('manifest and attachments inside an operation element are refused, not dropped', async (t) => {
  const wrapped = withBody(`<ed:SendDocument xmlns:ed="urn:vendor:qlvb">${bodyParts}</ed:SendDocument>`);
  const err = (() => {
    try {
      decodeEdxml(wrapped);
      return null;
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof EdxmlError, `refused (${String(err)})`);
  t.equal((err as EdxmlError).code, 'EDXML_INVALID');
  t.equal((err as EdxmlError).path, 'Envelope/Body/SendDocument/edXMLManifest');
  t.match((err as EdxmlError).message, /edXMLManifest is inside <ed:SendDocument>: .*directly in soap Body/);
  const deeper = withBody(`<ed:SendDocument xmlns:ed="urn:vendor:qlvb"><ed:document>${bodyParts}</ed:document></ed:SendDocument>`);
  let deeperPath = '';
  try {
    decodeEdxml(deeper);
  } catch (e) {
    deeperPath = (e as EdxmlError).path;
  }
  t.equal(deeperPath, 'Envelope/Body/SendDocument/document/edXMLManifest', 'a parameter element inside the operation too');
  const harmless = withBody('<ed:TrackingNote xmlns:ed="urn:vendor:qlvb">giao ngay</ed:TrackingNote>');
  t.doesNotThrow(() => decodeEdxml(harmless), "a vendor's own element without edXML parts still rides along");
});
