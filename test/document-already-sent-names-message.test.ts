// A document posted again to a recipient that has it is refused naming the message it went in.
// A QLVB that lost the 202 of its first post and posted again without an Idempotency-Key got
// "already sent" and no way to find its message: the refusal now names it (detail, errors and
// `messageId`), so the vendor can follow the document it did send.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBus } from './helpers/test-bus.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');

t.test('DOCUMENT_ALREADY_SENT names the message the document went in', async (t) => {
  const bus = await startTestBus(t, { name: 'already-sent-names-message', runner: false });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const post = async (xml: string) => {
    const res = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, body: xml });
    return { status: res.status, body: await res.json() };
  };
  const first = await post(sdkPackage);
  t.equal(first.status, 202);
  const sent = new Map<string, string>(first.body.recipients.map((r: { member: string; id: string }) => [r.member, r.id]));

  const again = await post(sdkPackage);
  t.equal(again.status, 409);
  const toSoTuPhap = sent.get('000.00.15.H49')!;
  t.match(again.body, {
    code: 'DOCUMENT_ALREADY_SENT',
    messageId: toSoTuPhap,
    detail: new RegExp(`already sent to 000\\.00\\.15\\.H49, as message ${toSoTuPhap} \\(GET /v1/messages/${toSoTuPhap}\\); if this is a retry of that submission, follow that message`),
    errors: [{ field: 'edXMLHeader/MessageHeader/To[1]', message: `already sent to 000.00.15.H49 (message ${toSoTuPhap})` }],
  });
  t.equal((await office.status(toSoTuPhap)).status, 200, 'the message named is one the sender may follow');
});
