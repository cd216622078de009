// A signed document's timeline names its signer — the certificate subject — in a status event
// that goes on lgsp.events in clear, into the permanent audit chain and to the console. The
// subject was copied whole, and a Vietnamese signing certificate commonly holds its holder's
// citizen id (UID=CCCD:…, or a serialNumber attribute) and an e-mail address: a person's id number
// was written, in clear and for ever, where operators read. The timeline now keeps the naming
// attributes only (signer-on-timeline.ts); receivers still get the package, its certificate and
// the whole subject in signatureVerification.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signEdxml } from '../services/edxml/xml-dsig.js';
import { ensureTestSigningCa } from '../services/edxml/test-signing-ca.js';
import { signerOnTimeline } from '../services/edxml/signer-on-timeline.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { eventually } from './helpers/test-bus.js';

const CCCD = '079188765432';
const CMND = '024681357';
const EMAIL = 'ky.nv@h49.example.gov.vn';

t.test('the timeline names a signer without the personal ids its certificate holds', async (t) => {
  const caDir = mkdtempSync(join(tmpdir(), 'lgsp-signer-ids-'));
  t.teardown(() => rmSync(caDir, { recursive: true, force: true }));
  const ca = ensureTestSigningCa(caDir);
  const signer = ca.signer('person', `/CN=Nguyễn Văn Ký (DEMO)/UID=CCCD:${CCCD}/serialNumber=CMND:${CMND}/emailAddress=${EMAIL}/OU=Văn phòng (DEMO)/O=Ủy ban nhân dân tỉnh H49 (DEMO)/C=VN`);
  const bus = await startEdocBus(t, { name: 'edoc-signer-ids', config: { edxmlTrustedCas: [ca.caFile] } });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const base = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');
  const xml = base
    .replace(/<edXML:To>[\s\S]*<\/edXML:To>/, '<edXML:To><edXML:OrganId>000.00.15.H49</edXML:OrganId></edXML:To>')
    .replace(/202\/UBND-KGVX/g, '501/UBND-KS')
    .replace('<edXML:CodeNumber>202</edXML:CodeNumber>', '<edXML:CodeNumber>501</edXML:CodeNumber>');
  const posted = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/xml; charset=utf-8', authorization: `Bearer ${token}` }, body: signEdxml(xml, signer) });
  const accepted = (await posted.json()) as { id: string };
  t.equal(posted.status, 202, JSON.stringify(accepted));

  let timeline: { events: { event: string; detail?: { signature?: string; signer?: string } }[] } | undefined;
  await eventually(async () => {
    const r = await fetch(`${bus.gateway.url}/v1/messages/${accepted.id}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as typeof timeline;
    if (body?.events?.some((e) => e.detail?.signature)) timeline = body;
    return timeline !== undefined;
  }, 30_000);
  const status = timeline!.events.find((e) => e.detail?.signature)!;
  t.equal(status.detail!.signature, 'valid');
  t.equal(status.detail!.signer, 'CN=Nguyễn Văn Ký (DEMO), OU=Văn phòng (DEMO), O=Ủy ban nhân dân tỉnh H49 (DEMO), C=VN (3 more attributes left out)', 'who signed, without the ids');
  const seen = JSON.stringify(timeline);
  t.notOk(seen.includes(CCCD), 'the citizen id is not on the timeline');
  t.notOk(seen.includes(CMND), 'nor the old id-card number');
  t.notOk(seen.includes(EMAIL), 'nor the e-mail address');
});

t.test('signerOnTimeline keeps the names and says what it left out', async (t) => {
  t.equal(signerOnTimeline('CN=Văn thư Văn phòng UBND tỉnh (DEMO), O=Ủy ban nhân dân tỉnh H49 (DEMO)'), 'CN=Văn thư Văn phòng UBND tỉnh (DEMO), O=Ủy ban nhân dân tỉnh H49 (DEMO)', 'an office certificate is named as before');
  t.equal(signerOnTimeline('CN=Lê Văn A, UID=CMND:012345678'), 'CN=Lê Văn A (1 more attribute left out)');
  t.equal(signerOnTimeline('2.5.4.97=VN-012345678, telephoneNumber=0912345678'), '(2 more attributes left out)', 'attributes it cannot name are left out');
});
