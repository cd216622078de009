// A receiving service can refuse SHA-1 signatures (documentSignatures refuse "weak"), as it can
// refuse untrusted ones: a Java receiver on JDK 17+ cannot check them, and NIST retired SHA-1
// for signatures. The sender learns why before anything reaches Kafka; other recipients and
// SHA-256 signatures are untouched.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signEdxml } from '../services/edxml/xml-dsig.js';
import { ensureTestSigningCa } from '../services/edxml/test-signing-ca.js';
import { startEdocBus } from './helpers/edoc-bus.js';

const STRICT_MEMBER = '000.00.12.H49';

t.test('a service refusing weak signatures gets no SHA-1 package; the sender is told why', async (t) => {
  const caDir = mkdtempSync(join(tmpdir(), 'lgsp-weak-policy-'));
  t.teardown(() => rmSync(caDir, { recursive: true, force: true }));
  const ca = ensureTestSigningCa(caDir);
  const signer = ca.signer('office', '/CN=Văn thư (DEMO)');
  const bus = await startEdocBus(t, {
    name: 'edoc-weak',
    config: { edxmlTrustedCas: [ca.caFile] },
    adjustRegistry: (seeds) => {
      seeds.services.find((s) => s.code === 'document-exchange' && s.provider === STRICT_MEMBER)!.documentSignatures = { refuse: ['weak'] };
    },
  });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const postXml = async (xml: string) => {
    const r = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml; charset=utf-8', authorization: `Bearer ${token}` }, body: xml });
    return { status: r.status, body: await r.json() };
  };
  const base = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');
  // A fresh package (number `n`) to one member, as edoc-corpus-exchange makes them.
  const to = (n: number, member: string) => base
    .replace(/<edXML:To>[\s\S]*<\/edXML:To>/, `<edXML:To><edXML:OrganId>${member}</edXML:OrganId></edXML:To>`)
    .replace(/202\/UBND-KGVX/g, `${n}/UBND-KS`)
    .replace('<edXML:CodeNumber>202</edXML:CodeNumber>', `<edXML:CodeNumber>${n}</edXML:CodeNumber>`);
  const sha1 = (xml: string) => signEdxml(xml, signer, { signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digest: 'http://www.w3.org/2000/09/xmldsig#sha1' });

  const refused = await postXml(sha1(to(401, STRICT_MEMBER)));
  t.equal(refused.status, 422, JSON.stringify(refused.body));
  t.match(refused.body, { code: 'SIGNATURE_POLICY', detail: /000\.00\.12\.H49 .* does not accept signatures made with SHA-1 \(http:\/\/www\.w3\.org\/2000\/09\/xmldsig#rsa-sha1, http:\/\/www\.w3\.org\/2000\/09\/xmldsig#sha1\)/ });
  t.equal((await postXml(signEdxml(to(402, STRICT_MEMBER), signer))).status, 202, 'a SHA-256 signature goes through');
  t.equal((await postXml(sha1(to(403, '000.00.15.H49')))).status, 202, 'another recipient takes SHA-1');
});
