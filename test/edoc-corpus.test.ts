// The corpus of real-shaped edXML packages (test/fixtures/edxml/corpus, written from the public
// format descriptions and the QCVN 102 SDK samples): each is read, matches its JSON schema, and
// round-trips through every shape a receiving system may ask for; what the field table does not
// know is carried, never refused; what could change a package's meaning is refused in the JSON form.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEdxml, encodeEdxml, EdxmlError, EDXML_SHAPES, bareContentId } from '../services/edxml/edxml-codec.js';
import { XmlRefusal } from '../services/edxml/safe-xml.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';

const CORPUS = join(import.meta.dirname, 'fixtures', 'edxml', 'corpus');
const corpus = (name: string) => readFileSync(join(CORPUS, name));
const catalogue = new SchemaCatalogue().loadConnectorManifests();

const EXPECTED: Record<string, { type: string; shape: string; attachments: number; extensions: number }> = {
  'sdk-document-attachments.xml': { type: 'edoc.send', shape: 'sdk', attachments: 2, extensions: 2 },
  'sdk-document-no-attachments.xml': { type: 'edoc.send', shape: 'sdk', attachments: 0, extensions: 1 },
  'default-ns-envelope-attachment.xml': { type: 'edoc.send', shape: 'envelope', attachments: 1, extensions: 0 },
  'soap-document-attachment.xml': { type: 'edoc.send', shape: 'soap', attachments: 1, extensions: 0 },
  'sdk-revoke.xml': { type: 'edoc.send', shape: 'sdk', attachments: 0, extensions: 1 },
  'prefixed-update.xml': { type: 'edoc.send', shape: 'envelope', attachments: 0, extensions: 2 },
  'status-sdk-received.xml': { type: 'edoc.status', shape: 'sdk', attachments: 0, extensions: 0 },
  'status-default-ns-processing.xml': { type: 'edoc.status', shape: 'envelope', attachments: 0, extensions: 0 },
  'status-soap-completed.xml': { type: 'edoc.status', shape: 'soap', attachments: 0, extensions: 0 },
};

t.test('every corpus package is read, is a valid payload, and round-trips in every shape', async (t) => {
  t.same(readdirSync(CORPUS).sort(), Object.keys(EXPECTED).sort(), 'the table covers the whole corpus');
  for (const [name, want] of Object.entries(EXPECTED)) {
    const decoded = decodeEdxml(corpus(name));
    t.match(decoded, { type: want.type, shape: want.shape }, `${name}: ${want.type} in the ${want.shape} shape`);
    const p = decoded.payload as any;
    t.equal(p.attachments?.length ?? 0, want.attachments, `${name}: attachments`);
    t.equal(p.extensions?.length ?? 0, want.extensions, `${name}: elements carried through`);
    const validate = catalogue.payloadValidator(decoded.type)!;
    t.ok(validate(decoded.payload), `${name}: valid ${decoded.type} ${JSON.stringify(validate.errors)}`);
    for (const shape of EDXML_SHAPES) {
      const xml = encodeEdxml(decoded.type, decoded.payload, { shape });
      const again = decodeEdxml(xml);
      t.equal(again.shape, shape, `${name} → ${shape}: written in that shape`);
      t.same(again.payload, decoded.payload, `${name} → ${shape}: nothing lost or changed`);
      t.equal(encodeEdxml(again.type, again.payload, { shape }), xml, `${name} → ${shape}: writing is deterministic`);
    }
  }
});

t.test('the SDK sample shape: the four things that used to be refused are read', async (t) => {
  const { payload } = decodeEdxml(corpus('sdk-document-attachments.xml'));
  const p = payload as any;
  t.equal(p.header.documentId, '000.00.00.H49,2026/05/04,201/UBND-VP', '<edXML> root read');
  t.notOk(p.signature, 'the empty DigitalSignature placeholder is no signature');
  t.same(p.header.documentType, { type: 18, typeName: 'Công văn' });
  t.same(p.extensions, [
    { at: 'MessageHeader/DocumentType', xml: '<edXML:TypeDetail xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">0</edXML:TypeDetail>' },
    { at: 'MessageHeader/OtherInfo', xml: '<edXML:Direction xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">false</edXML:Direction>' },
  ], 'TypeDetail and Direction carried where they were');
  t.same(p.attachments.map((a: any) => [a.contentId, a.name, a.description]), [
    ['cid:5b0c2f7e-7d1a-4a53-9f0e-2a7d3c9b8e11', '201-UBND-VP.pdf', 'File đính kèm 1'],
    ['cid:9e4d7a21-3c55-4f0b-8d62-61f0a8c4d2b7', 'Danh sách đơn vị.txt', 'File đính kèm 2'],
  ], 'cid: references matched to bare ContentIds');
  t.match(Buffer.from(p.attachments[0].content, 'base64').toString('latin1'), /^%PDF-1\.4/, 'bytes from ContentTransferEncoded');
  t.equal(Buffer.from(p.attachments[1].content, 'base64').toString('utf8'), 'Danh sách đơn vị phối hợp (dữ liệu mẫu)\n');

  const sdk = encodeEdxml('edoc.send', payload, { shape: 'sdk' });
  t.match(sdk, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<edXML xmlns:xsi="http:\/\/www\.w3\.org\/2001\/XMLSchema-instance" xmlns:xsd="http:\/\/www\.w3\.org\/2001\/XMLSchema" xmlns="http:\/\/www\.mic\.gov\.vn\/TBT\/QCVN_102_2016">/, 'written back under the <edXML> root');
  t.match(sdk, /<edXML:DigitalSignature\/>/, 'with the placeholder the SDK writes when unsigned');
  t.match(sdk, /<edXML:Reference xmlns:xlink="http:\/\/www\.w3\.org\/1999\/xlink" xlink:href="cid:5b0c2f7e-7d1a-4a53-9f0e-2a7d3c9b8e11" xlink:type="simple">/);
  t.match(sdk, /<\/edXML:edXMLEnvelope>\n {2}<AttachmentEncoded>\n {4}<Attachment>\n {6}<ContentId>5b0c2f7e-7d1a-4a53-9f0e-2a7d3c9b8e11<\/ContentId>/, 'AttachmentEncoded after the envelope, default namespace, bare id');
  t.match(sdk, /<edXML:TypeName>Công văn<\/edXML:TypeName>\n\s*<edXML:TypeDetail xmlns:edXML="[^"]+">0<\/edXML:TypeDetail>/, 'the carried element back in its place');
  const envelope = encodeEdxml('edoc.send', payload, { shape: 'envelope' });
  t.match(envelope, /^<\?xml[^>]*>\n<edXML:edXMLEnvelope /);
  t.match(envelope, /<edXML:AttachmentEncoded>[\s\S]*<edXML:ContentTransferEncoded>base64<\/edXML:ContentTransferEncoded>\s*<edXML:Value>/);
  t.match(encodeEdxml('edoc.send', payload, { shape: 'soap' }), /^<\?xml[^>]*>\n<soap-env:Envelope [^>]*>\n {2}<soap-env:Header>\n {4}<edXML:MessageHeader>/);
});

t.test('elements from other namespaces and unknown edXML elements keep their namespaces', async (t) => {
  const { payload } = decodeEdxml(corpus('prefixed-update.xml'));
  const ext = (payload as any).extensions;
  t.same(ext[0], { at: 'edXMLHeader', xml: '<vd:SoVanBanDen loai="noi-bo" xmlns:vd="urn:example:vendor-extension">VT-2026-0415</vd:SoVanBanDen>' });
  t.equal(ext[1].at, 'TraceHeaderList/Bussiness');
  for (const shape of EDXML_SHAPES) t.match(encodeEdxml('edoc.send', payload, { shape }), /<vd:SoVanBanDen loai="noi-bo" xmlns:vd="urn:example:vendor-extension">VT-2026-0415<\/vd:SoVanBanDen>/, `${shape}: carried`);
  // An unprefixed element in no namespace must not be captured by the SDK root's default namespace.
  const noNamespace = { ...(payload as any), extensions: [{ at: 'edXMLHeader', xml: '<GhiChu xmlns="">không thuộc namespace nào</GhiChu>' }] };
  const sdk = encodeEdxml('edoc.send', noNamespace, { shape: 'sdk' });
  t.same((decodeEdxml(sdk).payload as any).extensions, noNamespace.extensions);
});

t.test('the JSON form cannot smuggle meaning in through extensions', async (t) => {
  const { payload } = decodeEdxml(corpus('sdk-document-no-attachments.xml'));
  const attempt = (extensions: unknown) => {
    try {
      encodeEdxml('edoc.send', { ...(payload as any), extensions }, { shape: 'sdk' });
    } catch (err) {
      if (err instanceof EdxmlError) return err;
      throw err;
    }
    return null;
  };
  const ns = 'xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"';
  t.match(attempt([{ at: 'MessageHeader', xml: `<edXML:To ${ns}><edXML:OrganId>000.00.99.H49</edXML:OrganId></edXML:To>` }]), { path: 'extensions[0].xml', message: /To is an edXML field here/ }, 'a recipient the bus would not route to');
  t.match(attempt([{ at: 'edXMLHeader', xml: '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/>' }]), { path: 'extensions[0].xml', message: /signature/ }, 'a second signature');
  t.match(attempt([{ at: 'MessageHeader', xml: '<a/><b/>' }]), { path: 'extensions[0].xml' }, 'two elements');
  t.match(attempt([{ at: 'MessageHeader', xml: '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>' }]), { path: 'extensions[0].xml', message: /DOCTYPE/ }, 'a DTD');
  t.match(attempt([{ at: 'MessageHeader', xml: '</edXML:MessageHeader><edXML:Evil>' }]), { path: 'extensions[0].xml', message: /well-formed/ }, 'markup that closes its parent');
  t.match(attempt([{ at: 'Nowhere/Else', xml: '<a/>' }]), { path: 'extensions[0].at', message: /no element Nowhere\/Else/ }, 'an anchor the package does not have');
  t.equal(attempt([{ at: 'MessageHeader/SignerInfo', xml: '<edXML:ChucVuKhac xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">x</edXML:ChucVuKhac>' }]), null, 'an unknown element is fine');
});

t.test('ContentIds: cid:, <…> and bare name the same attachment; an unlisted one is still an attachment', async (t) => {
  t.equal(bareContentId('cid:abc'), 'abc');
  t.equal(bareContentId(' <abc> '), 'abc');
  t.equal(bareContentId('CID:abc'), 'abc');
  const unlisted = corpus('default-ns-envelope-attachment.xml').toString('utf8').replace(/<edXMLManifest>[\s\S]*<\/edXMLManifest>/, '<edXMLManifest/>');
  const { payload } = decodeEdxml(unlisted);
  t.match((payload as any).attachments, [{ contentId: 'cid:danh-muc-du-an.pdf', name: 'Danh mục dự án.pdf', contentType: 'application/pdf' }]);
});

t.test('hostile XML in the new shapes is still refused, and fast', async (t) => {
  const refused = (xml: string) => {
    const started = process.hrtime.bigint();
    try {
      decodeEdxml(xml);
    } catch (err) {
      if (err instanceof XmlRefusal || err instanceof EdxmlError) return { err, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      throw err;
    }
    throw new Error('accepted');
  };
  const sdk = corpus('sdk-document-attachments.xml').toString('utf8');
  const xxe = sdk.replace('<edXML ', '<!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<edXML ').replace('<edXML:Subject>', '<edXML:Subject>&x;');
  const laughs = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&c;</edXML>';
  const deep = '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">' + '<x>'.repeat(3000) + '</x>'.repeat(3000) + '</edXML>';
  const deepExtension = sdk.replace('<edXML:TypeDetail>0</edXML:TypeDetail>', '<v:x xmlns:v="urn:v">' + '<v:x>'.repeat(40) + '</v:x>'.repeat(41));
  for (const [what, xml, code] of [['XXE in the SDK shape', xxe, 'XML_FORBIDDEN_CONSTRUCT'], ['entity expansion', laughs, 'XML_FORBIDDEN_CONSTRUCT'], ['deep nesting', deep, 'XML_TOO_DEEP'], ['a deep unknown element', deepExtension, 'XML_TOO_DEEP']] as const) {
    const { err, ms } = refused(xml);
    t.match(err, { code }, what);
    t.ok(ms < 500, `${what}: refused in ${ms.toFixed(1)} ms`);
  }
});
