// A package signed with SHA-1 (rsa-sha1, sha1 digests: .NET's SignedXml before 4.7.1 and older
// QLVB products sign so) verified `valid` and said nothing more, while a Java receiver on JDK 17+
// cannot check it at all (secure validation forbids SHA-1) and NIST retired SHA-1 for
// signatures. The bus still takes it, and now names the weak algorithms in the result.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { signEdxml, TrustList, verifyXmlSignature } from '../services/edxml/xml-dsig.js';
import { ensureTestSigningCa } from '../services/edxml/test-signing-ca.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';

const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

t.test('a SHA-1 signature is still valid, and its weak algorithms are named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-weak-dsig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = ensureTestSigningCa(dir);
  const key = ca.signer('sha1-signer', '/CN=Văn thư (DEMO)');
  const trust = TrustList.load([ca.caFile]);
  const xml = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');

  const sign = (signature: string, digest: string) => signEdxml(xml, key, { signature, digest });

  const sha1 = verifyXmlSignature(sign(RSA_SHA1, SHA1), trust);
  t.match(sha1, { result: 'valid', signer: 'CN=Văn thư (DEMO)' });
  t.same(sha1.weakAlgorithms, [RSA_SHA1, SHA1], 'both named, each once');
  t.same(verifyXmlSignature(sign('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', SHA1), trust).weakAlgorithms, [SHA1], 'a SHA-1 digest under an RSA-SHA256 signature');
  t.same(verifyXmlSignature(sign(RSA_SHA1, SHA1), new TrustList([])).weakAlgorithms, [RSA_SHA1, SHA1], 'untrusted says it too');
  t.equal(verifyXmlSignature(signEdxml(xml, key), trust).weakAlgorithms, undefined, 'nothing for SHA-256');

  // The field is in the message schemas, so a package carrying it is still a valid edoc.send.
  const payload = { ...(decodeEdxml(xml).payload as Record<string, unknown>), signatureVerification: sha1 };
  const validate = new SchemaCatalogue().loadConnectorManifests().payloadValidator('edoc.send')!;
  t.ok(validate(payload), JSON.stringify(validate.errors));
});
