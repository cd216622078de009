// The corpus and signed packages end to end on the real broker: every corpus package posted as
// XML is accepted and delivered to each kind of receiving system in the shape it expects (so-tp:
// push, edXML, the SDK shape by default; so-khdt: pull, edXML, SOAP; xa-hoaphuoc: pull, JSON),
// with nothing lost; status packets in every shape come back the other way. XML-DSig: a signed
// package verifies `valid` and reaches edXML receivers as the sender's exact bytes, which they
// verify themselves; a changed byte gives `invalid`, another CA `untrusted`; a service that
// refuses unsigned or invalid documents gets none, and the sender is told why before Kafka.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { signEdxml, TrustList, verifyXmlSignature } from '../services/edxml/xml-dsig.js';
import { ensureTestSigningCa } from '../services/edxml/test-signing-ca.js';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';

const corpus = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', name), 'utf8');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const STRICT_MEMBER = '000.00.12.H49'; // so-tttt: its document-exchange service refuses unsigned, invalid and untrusted documents

t.test('corpus and signatures end to end', async (t) => {
  const caDir = mkdtempSync(join(tmpdir(), 'lgsp-edxml-ca-'));
  t.teardown(() => rmSync(caDir, { recursive: true, force: true }));
  const ca = ensureTestSigningCa(caDir);
  const signer = ca.signer('office', '/CN=Văn thư Văn phòng UBND tỉnh (DEMO)/O=Ủy ban nhân dân tỉnh H49 (DEMO)');
  const stranger = ensureTestSigningCa(join(caDir, 'other'), '/CN=Some other CA (DEMO)').signer('stranger', '/CN=Không rõ (DEMO)');
  const bus = await startEdocBus(t, {
    name: 'edoc-corpus',
    config: { edxmlTrustedCas: [ca.caFile] },
    adjustRegistry: (seeds) => {
      const strict = seeds.services.find((s) => s.code === 'document-exchange' && s.provider === STRICT_MEMBER)!;
      strict.documentSignatures = { refuse: ['unsigned', 'invalid', 'untrusted'] };
    },
  });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const postXml = async (xml: string, bearer = token, contentType = 'application/xml; charset=utf-8') => {
    const r = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${bearer}` }, body: xml });
    return { status: r.status, body: await r.json() };
  };
  const docs = (clientId: string) => bus.qlvb.received.get(clientId) ?? [];
  const received = (clientId: string, documentId: string, businessDocType = 0) =>
    eventually(() => docs(clientId).find((d) => d.type === 'edoc.send' && d.documentId === documentId && d.businessDocType === businessDocType), 60_000);
  const completed = (documentId: string) =>
    eventually(async () => {
      const v = await office.request('GET', `/v1/documents/${encodeURIComponent(documentId)}`);
      return v.body.recipients?.every((r: any) => r.status === '06') ? v.body : null;
    }, 60_000);
  const SHAPE_OF: Record<string, string> = { 'so-tp-qlvb': 'sdk', 'so-khdt-qlvb': 'soap' };
  const CLIENT_OF: Record<string, string> = { '000.00.15.H49': 'so-tp-qlvb', '000.00.24.H49': 'so-khdt-qlvb', 'H49.242.10': 'xa-hoaphuoc-qlvb' };

  /** What the receiver got is what the sender sent: fields, carried elements, attachment bytes. */
  function sameDocument(t: { same(a: unknown, b: unknown, msg: string): unknown }, got: Record<string, any>, sent: Record<string, any>, what: string) {
    const strip = (p: Record<string, any>) => {
      const { attachments, signatureVerification: _v, original: _o, ...rest } = p;
      return { ...rest, attachments: (attachments ?? []).map((a: any) => ({ contentId: a.contentId, name: a.name, contentType: a.contentType, description: a.description })) };
    };
    t.same(strip(got), strip(sent), `${what}: every field and carried element intact`);
  }

  const documents = ['sdk-document-attachments.xml', 'sdk-document-no-attachments.xml', 'default-ns-envelope-attachment.xml', 'soap-document-attachment.xml'];
  await t.test('every corpus document is accepted and reaches each recipient in the shape it expects', async (t) => {
    for (const name of documents) {
      const xml = corpus(name);
      const sent = decodeEdxml(xml).payload as any;
      // A SOAP package comes as SOAP 1.2's own media type, as SOAP stacks send it.
      const r = await postXml(xml, token, name.startsWith('soap-') ? 'application/soap+xml; charset=utf-8' : undefined);
      t.equal(r.status, 202, `${name}: accepted ${JSON.stringify(r.body)}`);
      for (const to of sent.header.to.map((o: any) => o.organId)) {
        const clientId = CLIENT_OF[to];
        const got = await received(clientId, sent.header.documentId);
        t.notOk(got.problem, `${name} → ${clientId}: no problem`);
        t.equal(got.signature, 'unsigned', `${name} → ${clientId}: told the package was unsigned`);
        const expected = (sent.attachments ?? []).map((a: any) => sha256(Buffer.from(a.content, 'base64')));
        t.same(got.attachments.map((a) => a.sha256), expected, `${name} → ${clientId}: attachment bytes intact`);
        if (got.format === 'edxml') {
          t.equal(got.shape, SHAPE_OF[clientId], `${name} → ${clientId}: in the ${SHAPE_OF[clientId]} shape`);
          sameDocument(t, decodeEdxml(got.xml!).payload, sent, `${name} → ${clientId}`);
        } else {
          const inbox = bus.qlvb.received.get(clientId)!.find((d) => d.documentId === sent.header.documentId)!;
          t.ok(inbox, `${name} → ${clientId}: as JSON`);
        }
      }
    }
    // The JSON receiver gets the carried elements too (the envelope as the bus holds it).
    const json = await eventually(async () => {
      const timeline = await office.request('GET', `/v1/documents/${encodeURIComponent('000.00.00.H49,2026/05/04,201/UBND-VP')}`);
      return timeline.status === 200 ? timeline.body : null;
    });
    t.equal(json.recipients.length, 3);
  });

  await t.test('the recipients answer 03 and 06 in their own shapes; a revoke and an update follow', async (t) => {
    for (const id of ['000.00.00.H49,2026/05/04,201/UBND-VP', '000.00.00.H49,2026/05/04,202/UBND-KGVX']) {
      const view = await completed(id);
      for (const rcp of view.recipients) t.same(rcp.history.map((h: any) => h.code), ['03', '06'], `${id} at ${rcp.member}: 03 then 06`);
    }
    const revoke = await postXml(corpus('sdk-revoke.xml'));
    t.equal(revoke.status, 202, `revoke (SDK shape) accepted ${JSON.stringify(revoke.body)}`);
    const update = await postXml(corpus('prefixed-update.xml'));
    t.equal(update.status, 202, `update (prefixed envelope) accepted ${JSON.stringify(update.body)}`);
    for (const clientId of ['so-tp-qlvb', 'so-khdt-qlvb', 'xa-hoaphuoc-qlvb']) await received(clientId, '000.00.00.H49,2026/05/04,201/UBND-VP', 1);
    const updated = await received('so-tp-qlvb', '000.00.00.H49,2026/05/04,202/UBND-KGVX', 2);
    t.match(updated.xml, /<vd:SoVanBanDen loai="noi-bo" xmlns:vd="urn:example:vendor-extension">VT-2026-0415<\/vd:SoVanBanDen>/, 'the vendor element reached the edXML receiver');
    await received('xa-hoaphuoc-qlvb', '000.00.00.H49,2026/05/04,202/UBND-KGVX', 2);
    const answered = await eventually(async () => {
      const v = await office.request('GET', `/v1/documents/${encodeURIComponent('000.00.00.H49,2026/05/04,201/UBND-VP')}`);
      return v.body.recipients.every((r: any) => r.history.some((h: any) => h.code === '15')) ? v.body : null;
    }, 60_000);
    for (const rcp of answered.recipients) t.same(rcp.history.map((h: any) => h.code), ['03', '06', '13', '15'], `revoke at ${rcp.member}: 13 recorded, 15 answered`);
  });

  await t.test('status packets in every shape go back to the sender, in the shape it expects', async (t) => {
    const justice = bus.client('so-tp-qlvb');
    const documentId = '000.00.15.H49,2026/05/06,88/STP-VP';
    const sent = await justice.send({
      type: 'edoc.send',
      to: { member: '000.00.00.H49' },
      payload: { header: { from: { organId: '000.00.15.H49', organName: 'Sở Tư pháp' }, to: [{ organId: '000.00.00.H49' }], documentId, subject: 'Báo cáo kết quả thẩm định (dữ liệu mẫu)' } },
    });
    t.equal(sent.status, 202, JSON.stringify(sent.body));
    for (const [name, code] of [['status-sdk-received.xml', '03'], ['status-default-ns-processing.xml', '05'], ['status-soap-completed.xml', '06']]) {
      const r = await postXml(corpus(name));
      t.equal(r.status, 202, `${name}: accepted ${JSON.stringify(r.body)}`);
      const got = await eventually(() => docs('so-tp-qlvb').find((d) => d.type === 'edoc.status' && d.documentId === documentId && d.statusCode === code), 60_000);
      t.equal(got.shape, 'sdk', `${name} (${code}) reached so-tp in the SDK shape`);
    }
    const view = await justice.request('GET', `/v1/documents/${encodeURIComponent(documentId)}`);
    t.same(view.body.recipients[0].history.map((h: any) => h.code), ['03', '05', '06']);
  });

  /** A fresh SDK-shaped package (number `n`) to the given members, optionally signed. */
  const pkg = (n: number, to: string[]) =>
    corpus('sdk-document-no-attachments.xml')
      .replace(/<edXML:To>[\s\S]*<\/edXML:To>/, to.map((m) => `<edXML:To><edXML:OrganId>${m}</edXML:OrganId></edXML:To>`).join('\n        '))
      .replace(/202\/UBND-KGVX/g, `${n}/UBND-KS`)
      .replace('<edXML:CodeNumber>202</edXML:CodeNumber>', `<edXML:CodeNumber>${n}</edXML:CodeNumber>`);
  const trust = TrustList.load([ca.caFile]);

  await t.test('a signed package verifies valid; receivers get the original bytes and can verify them', async (t) => {
    const signed = signEdxml(pkg(301, ['000.00.15.H49', STRICT_MEMBER]), signer);
    const r = await postXml(signed);
    t.equal(r.status, 202, JSON.stringify(r.body));
    const documentId = '000.00.00.H49,2026/05/04,301/UBND-KS';
    const pushed = await received('so-tp-qlvb', documentId);
    t.equal(pushed.xml, signed, 'the edXML receiver got the exact bytes the sender signed');
    t.equal(pushed.signature, 'valid', 'and LGSP-Document-Signature: valid');
    t.match(verifyXmlSignature(pushed.xml!, trust), { result: 'valid', signer: /Văn thư Văn phòng UBND tỉnh/ }, 'the receiver verifies the signature itself');
    const json = await received('so-tttt-qlvb', documentId);
    t.equal(json.signature, 'valid', 'the JSON receiver is told valid (signatureVerification)');
    // Sender, receivers and operators see the result on the timeline.
    const timeline = await eventually(async () => {
      const v = await office.status(r.body.recipients[0].id);
      return v.body.events?.find((e: any) => e.event === 'status' && e.detail?.signature) ? v.body : null;
    });
    t.match(timeline.events.find((e: any) => e.detail?.signature).detail, { signature: 'valid', signer: /CN=Văn thư Văn phòng UBND tỉnh/ });
    // The JSON receiver can fetch the original and verify it too.
    const strict = bus.client('so-tttt-qlvb');
    const inboxless = await strict.request('GET', `/v1/messages/${r.body.recipients.find((x: any) => x.member === STRICT_MEMBER).id}`);
    t.equal(inboxless.status, 200);
    const original = decodeEdxml(signed);
    t.ok(original.payload.signature);
    const digest = sha256(Buffer.from(signed));
    const download = await fetch(`${bus.gateway.url}/v1/attachments/${digest}`, { headers: { authorization: `Bearer ${await strict.accessToken()}` } });
    t.equal(download.status, 200, 'the original is downloadable by a recipient');
    t.equal(await download.text(), signed, 'byte for byte');
  });

  await t.test('a changed byte gives invalid, another CA untrusted; a strict service refuses them before Kafka', async (t) => {
    const signedForBoth = signEdxml(pkg(302, ['000.00.15.H49', STRICT_MEMBER]), signer);
    const tampered = signedForBoth.replace('Về việc báo cáo', 'Về việc bao cáo');
    const refused = await postXml(tampered);
    t.equal(refused.status, 422);
    t.match(refused.body, { code: 'SIGNATURE_POLICY', errors: [{ field: 'edXMLHeader/MessageHeader/To[2]' }], detail: /does not accept invalid documents \(a reference digest does not match/ }, 'the strict recipient named, with the reason');
    t.equal((await office.request('GET', `/v1/documents/${encodeURIComponent('000.00.00.H49,2026/05/04,302/UBND-KS')}`)).status, 404, 'nothing recorded: no partial state');

    const tamperedForOne = signEdxml(pkg(303, ['000.00.15.H49']), signer).replace('Về việc báo cáo', 'Về việc bao cáo');
    const accepted = await postXml(tamperedForOne);
    t.equal(accepted.status, 202, 'a tolerant recipient still gets it');
    const got = await received('so-tp-qlvb', '000.00.00.H49,2026/05/04,303/UBND-KS');
    t.equal(got.signature, 'invalid', 'marked invalid');
    t.equal(got.xml, tamperedForOne, 'as the exact bytes, so the receiver can see for itself');
    t.equal(verifyXmlSignature(got.xml!, trust).result, 'invalid');

    const foreign = signEdxml(pkg(304, ['000.00.15.H49']), stranger);
    t.equal((await postXml(foreign)).status, 202);
    t.equal((await received('so-tp-qlvb', '000.00.00.H49,2026/05/04,304/UBND-KS')).signature, 'untrusted', 'another CA: untrusted');
    const foreignStrict = await postXml(signEdxml(pkg(305, [STRICT_MEMBER]), stranger));
    t.match(foreignStrict, { status: 422, body: { code: 'SIGNATURE_POLICY', detail: /untrusted/ } });
    const unsignedStrict = await postXml(pkg(306, [STRICT_MEMBER]));
    t.match(unsignedStrict, { status: 422, body: { code: 'SIGNATURE_POLICY', detail: /does not accept unsigned documents/ } });
  });

  await t.test('the JSON form cannot claim a verification result', async (t) => {
    const payload = { ...(decodeEdxml(pkg(307, ['000.00.15.H49'])).payload as any), signatureVerification: { result: 'valid', signer: 'CN=Giả mạo', checkedAt: new Date().toISOString() } };
    const r = await office.send({ type: 'edoc.send', to: { member: '000.00.15.H49' }, payload });
    t.equal(r.status, 202, JSON.stringify(r.body));
    const got = await received('so-tp-qlvb', '000.00.00.H49,2026/05/04,307/UBND-KS');
    t.equal(got.signature, 'unsigned', 'the bus replaced the claim with its own finding');
    const claimed = await office.send({ type: 'edoc.send', to: { member: STRICT_MEMBER }, payload: { ...(decodeEdxml(signEdxml(pkg(308, [STRICT_MEMBER]), signer)).payload as any) } });
    t.match(claimed, { status: 422, body: { code: 'SIGNATURE_POLICY', detail: /JSON form cannot be checked/ } }, 'a signature in JSON is unverifiable, so a strict service refuses it');
  });
});
