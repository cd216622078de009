// An attachment that is not base64 is refused saying why. "ContentTransferEncoded is not valid
// base64" (edXML) and "content is not canonical base64" (JSON) about a large attachment left the
// vendor to guess between a data: URI, base64url, padding left out and a stray character.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base64Fault } from '../services/edxml/base64-fault.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('base64Fault names what is wrong, and nothing in base64', async (t) => {
  t.equal(base64Fault('VsSDbiBi4bqjbiBt4bqrdQo=', { padding: 'required' }), null);
  t.equal(base64Fault('QQ', { padding: 'optional' }), null, 'padding may be left out in the JSON form');
  t.equal(base64Fault('', { padding: 'required' }), null);
  t.match(base64Fault('data:application/pdf;base64,QQ==', { padding: 'required' }), /data: URI; send only the base64 text after "base64,"/);
  t.match(base64Fault('ab_c-d==', { padding: 'required' }), /character "_" at position 3 is not base64 \(base64url\? use \+ and \/ instead of - and _\)/);
  t.match(base64Fault('QUJD\u00a0', { padding: 'required' }), /character U\+00A0 at position 5 is not base64 \(white space\)/);
  t.match(base64Fault('QQ==QUJD', { padding: 'required' }), /"=" at position 3 is padding, which may only end the text/);
  t.match(base64Fault('VsSDbiBi4bqjbiBt4bqrdQo', { padding: 'required' }), /its length, 23 characters, is not a multiple of 4 \(the "=" padding left out, or the text cut short\?\)/);
  t.match(base64Fault('QUJDR', { padding: 'optional' }), /its length, 5 characters, cannot be base64/);
});

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-attachments.xml'), 'utf8');

t.test('the gateway says why an attachment is not base64, in edXML and in JSON', async (t) => {
  const bus = await startTestBus(t, { name: 'attachment-base64-faults', runner: false });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const firstContent = /(<ContentTransferEncoded>)([A-Za-z0-9+/=\s]+)(<\/ContentTransferEncoded>)/;
  const content = firstContent.exec(sdkPackage)?.[2].replace(/\s+/g, '');
  t.ok(content?.endsWith('='), 'the fixture\'s first attachment is padded base64');

  const unpadded = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' },
    body: sdkPackage.replace(firstContent, `$1${content!.replace(/=+$/, '')}$3`),
  });
  t.equal(unpadded.status, 400);
  const problem = await unpadded.json();
  t.match(problem, { code: 'EDXML_INVALID', errors: [{ field: 'AttachmentEncoded/Attachment[1]/ContentTransferEncoded', message: /^ContentTransferEncoded is not valid base64: its length, \d+ characters, is not a multiple of 4/ }] });

  const header = { from: { organId: '000.00.00.H49' }, to: [{ organId: '000.00.15.H49' }], documentId: '000.00.00.H49,2026/04/22,19/VP-TH', subject: 'Thử' };
  const dataUri = await office.send({ type: 'edoc.send', to: [{ member: '000.00.15.H49' }], payload: { header, attachments: [{ contentId: 'cid:a', name: 'a.txt', contentType: 'text/plain', content: 'data:text/plain;base64,QQ==' }] } } as never);
  t.equal(dataUri.status, 400);
  t.match(dataUri.body, { code: 'ATTACHMENT_NOT_BASE64', errors: [{ field: 'payload.attachments[0].content', message: /content is not base64: it is a data: URI/ }] });
});
