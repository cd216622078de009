// The QLVB vendor guide's examples, run as a vendor would run them: the SDK-shaped package of
// §3a is read by the bus's codec and is a valid edoc.send; the signing script of §3d, written
// out and run with node, signs that package with a demo signer so that it verifies `valid`
// against the demo CA — and `invalid` once a signed byte changes, `untrusted` against another CA.
// The answers §8 shows for GET /v1/documents are valid JSON and match the schema the gateway
// serves for that operation (they had "…" in them and left required members out).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { TrustList, verifyXmlSignature } from '../services/edxml/xml-dsig.js';
import { ensureTestSigningCa } from '../services/edxml/test-signing-ca.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { documentExchangeAnswers } from '../services/document-exchange/routes/openapi-answers.js';

const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'qlvb-vendor-guide.md'), 'utf8');

/** The fenced block right after `<!-- example: name -->`. */
function example(name: string, language: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`${language}\\n([\\s\\S]*?)\\n\`\`\``).exec(guide);
  if (!m) throw new Error(`the guide has no ${language} example "${name}"`);
  return m[1];
}

t.test('§3a: the SDK-shaped package is read in full and is a valid edoc.send', async (t) => {
  const decoded = decodeEdxml(example('sdk-package', 'xml'));
  t.match(decoded, { type: 'edoc.send', shape: 'sdk' });
  const p = decoded.payload as any;
  t.equal(p.header.documentId, '000.00.00.H49,2026/05/10,210/UBND-VP');
  t.same(p.extensions.map((e: any) => e.at), ['MessageHeader/DocumentType'], 'TypeDetail carried');
  t.equal(Buffer.from(p.attachments[0].content, 'base64').toString('utf8'), 'Văn bản mẫu\n', 'cid: reference matched to the bare ContentId');
  const validate = new SchemaCatalogue().loadConnectorManifests().payloadValidator('edoc.send')!;
  t.ok(validate(p), JSON.stringify(validate.errors));
});

t.test('§3d: the signing script signs the package so that the bus verifies it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-guide-'));
  // Inside the project so the script's `import 'xml-crypto'` resolves as it would for a vendor
  // who installed it.
  const scriptDir = mkdtempSync(join(PROJECT_ROOT, '.guide-example-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(scriptDir, { recursive: true, force: true });
  });
  const ca = ensureTestSigningCa(join(dir, 'edxml-ca'));
  ca.signer('demo-signer', '/CN=Văn thư Văn phòng UBND tỉnh (DEMO)/O=Ủy ban nhân dân tỉnh H49 (DEMO)');
  writeFileSync(join(scriptDir, 'sign-package.mjs'), example('sign-package', 'js'));
  writeFileSync(join(dir, 'package.xml'), example('sdk-package', 'xml'));
  execFileSync(process.execPath, [join(scriptDir, 'sign-package.mjs'), join(dir, 'package.xml'), join(dir, 'signed.xml')], { env: { ...process.env, LGSP_EDXML_CA_DIR: ca.dir } });
  const signed = readFileSync(join(dir, 'signed.xml'), 'utf8');
  const trust = TrustList.load([ca.caFile]);
  t.match(verifyXmlSignature(signed, trust), { result: 'valid', signer: 'CN=Văn thư Văn phòng UBND tỉnh (DEMO), O=Ủy ban nhân dân tỉnh H49 (DEMO)' });
  t.notOk(/<edXML:DigitalSignature\/>/.test(signed), 'the placeholder gave way to the signature');
  const decoded = decodeEdxml(signed);
  t.match(decoded.payload, { signature: /^<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">/ });
  t.match(verifyXmlSignature(signed.replace('thử nghiệm', 'thu nghiem'), trust), { result: 'invalid', reason: /digest does not match/ }, 'one changed field: invalid');
  t.match(verifyXmlSignature(signed.replace(/<SignatureValue>./, (m) => m.slice(0, -1) + (m.endsWith('A') ? 'B' : 'A')), trust), { result: 'invalid' }, 'a changed signature value: invalid');
  const other = ensureTestSigningCa(join(dir, 'other-ca'), '/CN=Another CA (DEMO)');
  t.match(verifyXmlSignature(signed, TrustList.load([other.caFile])), { result: 'untrusted', reason: /does not chain to a trusted CA/ }, 'against another CA: untrusted');
  t.match(verifyXmlSignature(signed, new TrustList([])), { result: 'untrusted', reason: /no trusted CA/ });
  // Without its certificate the signer cannot be checked, but a change after signing still can.
  const keyless = signed.replace(/<KeyInfo>[\s\S]*<\/KeyInfo>/, '');
  t.not(keyless, signed);
  t.match(verifyXmlSignature(keyless, trust), { result: 'untrusted', reason: /no X509Certificate/ }, 'no certificate, unchanged: untrusted');
  t.match(verifyXmlSignature(keyless.replace('thử nghiệm', 'thu nghiem'), trust), { result: 'invalid', reason: /digest does not match/ }, 'no certificate and changed: invalid');
  t.match(verifyXmlSignature(example('sdk-package', 'xml'), trust), { result: 'unsigned' });
});

t.test('a signature over part of the package only is invalid, with or without its certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-guide-partial-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = ensureTestSigningCa(dir);
  const key = ca.signer('s', '/CN=Partial (DEMO)');
  const { SignedXml } = await import('xml-crypto');
  const partial = new SignedXml({ privateKey: key.privateKey, publicCert: key.certificate, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
  // Signs only the Subject (by Id): a reader could be shown a different To or attachment.
  const xml = example('sdk-package', 'xml').replace('<edXML:Subject>', '<edXML:Subject Id="s1">');
  partial.addReference({ xpath: "//*[@Id='s1']", transforms: ['http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256' });
  partial.computeSignature(xml, { location: { reference: "//*[local-name(.)='edXMLHeader']", action: 'append' } });
  t.match(verifyXmlSignature(partial.getSignedXml(), TrustList.load([ca.caFile])), { result: 'invalid', reason: /covers only part/ });
  const noCertificate = partial.getSignedXml().replace(/<KeyInfo>[\s\S]*<\/KeyInfo>/, '');
  t.match(verifyXmlSignature(noCertificate, TrustList.load([ca.caFile])), { result: 'invalid', reason: /covers only part/ }, 'without its certificate too');
});

t.test('§8: every answer shown for GET /v1/documents is valid JSON and matches the schema the gateway serves', async (t) => {
  const section = guide.slice(guide.indexOf('## 8. Following a document'), guide.indexOf('## 9. '));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]);
  t.ok(blocks.length >= 2, `${blocks.length} JSON examples in §8`);
  // The schemas the gateway's OpenAPI document gives both operations (withDocumentedAnswers sets
  // them there as they are), read as OpenAPI 3.1 reads them: JSON Schema 2020-12, formats checked.
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  const byPath = documentExchangeAnswers['GET /v1/documents/{documentId}'][200]['application/json'];
  t.same(documentExchangeAnswers['GET /v1/documents'][200]['application/json'], byPath, 'both forms of the operation answer alike');
  const validate = ajv.compile(byPath);
  for (const [i, text] of blocks.entries()) {
    let answer: unknown;
    t.doesNotThrow(() => (answer = JSON.parse(text)), `example ${i + 1} is valid JSON`);
    t.ok(validate(answer), `example ${i + 1} matches the served schema`, { errors: validate.errors });
  }
  t.match(JSON.parse(example('document-view', 'json')), { recipients: Array, packages: Array }, 'a document');
  t.match(JSON.parse(example('change-view', 'json')), { businessDocType: 1, revokes: { documentId: String } }, 'a revoke under its own DocumentId');
});
