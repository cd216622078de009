// A QLVB vendor posting edXML is told which To element is wrong, in the words of the package.
// Two refusals about a recipient named fields the vendor never wrote: a malformed To/OrganId
// came back as `to[0].member` (the JSON form's field, from the submission schema), and an agency
// with no QLVB on the bus (no service taking edoc.send) as the field `type` — the one thing the
// sender had right. JSON senders of a list got `type` too, with no word of which recipient. A
// revoke or update for a recipient that never got the original named it `to[1]`.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBus } from './helpers/test-bus.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');

t.test('a refusal about a recipient names its To element (XML) or its entry in `to` (JSON)', async (t) => {
  const bus = await startTestBus(t, { name: 'edxml-recipient-refusals', runner: false });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const firstTo = /(<edXML:To>\s*<edXML:OrganId>)([^<]*)(<\/edXML:OrganId>)/;
  t.match(sdkPackage, firstTo, 'the fixture names its recipient in the first To');
  const postWithRecipient = async (organId: string) => {
    const res = await fetch(`${bus.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
      body: sdkPackage.replace(firstTo, `$1${organId}$3`),
    });
    t.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    return { status: res.status, body: await res.json() };
  };

  const lowerCase = await postWithRecipient('000.00.15.h49');
  t.equal(lowerCase.status, 400);
  t.match(lowerCase.body, { code: 'VALIDATION_FAILED', errors: [{ field: 'edXMLHeader/MessageHeader/To[1]/OrganId', message: /^must be an electronic agency code/ }] });
  t.notMatch(lowerCase.body.detail, /to\[0\]|\.member/, `no JSON field in the detail (${lowerCase.body.detail})`);
  t.match(lowerCase.body.detail, /"000\.00\.15\.h49"/, 'the detail quotes the code as written');

  // The Government Office is a member, but has no QLVB on the bus (no document-exchange service).
  const noQlvb = await postWithRecipient('000.00.00.G22');
  t.equal(noQlvb.status, 422);
  t.match(noQlvb.body, { code: 'UNKNOWN_SERVICE', errors: [{ field: 'edXMLHeader/MessageHeader/To[1]/OrganId', message: 'provides no service accepting edoc.send' }] });
  t.match(noQlvb.body.detail, /^edXMLHeader\/MessageHeader\/To\[1\] \(000\.00\.00\.G22\): Member 000\.00\.00\.G22 does not provide a service accepting edoc\.send \(GET \/v1\/services/);

  const hundredAndOne = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
    body: sdkPackage.replace(firstTo, Array.from({ length: 101 }, (_, i) => `<edXML:To><edXML:OrganId>H49.${i + 1}</edXML:OrganId></edXML:To>`).join('') + '$&'),
  });
  t.equal(hundredAndOne.status, 400);
  t.match(await hundredAndOne.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'edXMLHeader/MessageHeader/To', message: /^at most 100 To organisations per package \(this one names 103\); send the same package with the others in another post/ }] });

  // A one-stop system of Sở Tư pháp has no access right to anyone's document-exchange service.
  const fromOneStop = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await bus.client('so-tp-motcua').accessToken()}`, 'content-type': 'application/xml' },
    body: sdkPackage.replace(/(<edXML:From>\s*<edXML:OrganId>)000\.00\.00\.H49/, '$1000.00.15.H49').replace(firstTo, '$1000.00.00.H49$3'),
  });
  t.equal(fromOneStop.status, 403);
  t.match(await fromOneStop.json(), { code: 'SERVICE_FORBIDDEN', detail: /^edXMLHeader\/MessageHeader\/To\[1\] \(000\.00\.00\.H49\): Client so-tp-motcua has no access right/ }, 'a refusal without fields opens with the To element too');

  const header = (to: string[]) => ({
    from: { organId: '000.00.00.H49' },
    to: to.map((organId) => ({ organId })),
    documentId: '000.00.00.H49,2026/04/22,17/VP-TH',
    subject: 'Thử gửi văn bản',
  });
  const list = await office.send({ type: 'edoc.send', to: [{ member: '000.00.15.H49' }, { member: '000.00.00.G22' }], payload: { header: header(['000.00.15.H49', '000.00.00.G22']) } } as never);
  t.equal(list.status, 422);
  t.match(list.body, { code: 'UNKNOWN_SERVICE', errors: [{ field: 'to[1].member', message: 'provides no service accepting edoc.send' }] });
  t.match(list.body.detail, /^to\[1\] \(000\.00\.00\.G22\): /);

  const named = await office.send({ type: 'notice.send', to: { member: '000.00.00.G22', service: 'notice' }, payload: { subject: 'Thông báo', body: 'Kính gửi' } } as never);
  t.match(named.body, { code: 'UNKNOWN_SERVICE', errors: [{ field: 'to.service', message: 'not provided by the recipient' }] }, 'a named service that is not there is still the field at fault');
});

t.test('a change for a recipient that never got the original names its To element', async (t) => {
  const bus = await startTestBus(t, { name: 'edxml-change-recipient', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const post = async (xml: string) => {
    const res = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, body: xml });
    return { status: res.status, body: await res.json() };
  };
  const secondTo = /<edXML:To>\s*<edXML:OrganId>H49\.242\.10<\/edXML:OrganId>[\s\S]*?<\/edXML:To>/;
  const original = /<edXML:DocumentId>([^<]+)<\/edXML:DocumentId>/.exec(sdkPackage)![1];
  const change = (kind: number, xml: string) => xml.replace(/<edXML:BussinessDocType>0<\/edXML:BussinessDocType>/, `<edXML:BussinessDocType>${kind}</edXML:BussinessDocType><edXML:DocumentId>${original}</edXML:DocumentId>`);
  t.match(sdkPackage, secondTo, 'the fixture\'s second recipient is xã Hòa Phước');
  const toSoTuPhapOnly = sdkPackage.replace(secondTo, '');

  t.equal((await post(toSoTuPhapOnly)).status, 202, 'the original, to Sở Tư pháp only');
  const revokeForBoth = await post(change(1, sdkPackage));
  t.equal(revokeForBoth.status, 422);
  t.match(revokeForBoth.body, { code: 'ORIGINAL_NOT_SENT_TO_RECIPIENT', errors: [{ field: 'edXMLHeader/MessageHeader/To[2]' }] });

  t.equal((await post(change(2, toSoTuPhapOnly))).status, 202, 'an update to Sở Tư pháp');
  const revokeWhileUpdatePending = await post(change(1, toSoTuPhapOnly));
  t.equal(revokeWhileUpdatePending.status, 409);
  t.match(revokeWhileUpdatePending.body, { code: 'ILLEGAL_STATUS_TRANSITION', detail: /an update of this document is/ });
});
