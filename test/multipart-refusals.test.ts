// Multipart bodies, the way many HTTP libraries upload a file and the way QCVN 102 describes
// attachments (MIME parts), are refused saying what to send instead. POST /v1/attachments took
// a form (curl -F) as bytes and stored its boundaries and part headers as the attachment, under
// a digest that was not the file's; POST /v1/messages answered a MIME package with the generic
// "JSON endpoints take application/json".
import t from 'tap';
import { createHash } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';

t.test('multipart bodies are refused with what to send instead', async (t) => {
  const bus = await startTestBus(t, { name: 'multipart-refusals', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const auth = { authorization: `Bearer ${token}` };
  const file = Buffer.from('Biên bản họp ngày 05/03/2026');

  const form = new FormData();
  form.append('file', new Blob([file], { type: 'text/plain' }), 'bien-ban.txt');
  const formUpload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: auth, body: form });
  t.equal(formUpload.status, 415, 'a form is not stored as the attachment');
  t.equal(formUpload.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.match(await formUpload.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /takes the file's bytes as the body, not a multipart form.*--data-binary/ });

  const bytesUpload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: file });
  t.equal(bytesUpload.status, 201, 'the bytes themselves are taken');
  t.equal((await bytesUpload.json()).sha256, createHash('sha256').update(file).digest('hex'), 'under the file\'s own digest');

  const boundary = 'edxml-part';
  const mimePackage = [`--${boundary}`, 'Content-Type: application/xml', '', '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>', `--${boundary}`, 'Content-Type: application/pdf', 'Content-ID: <a1b2c3>', '', '%PDF-1.7', `--${boundary}--`, ''].join('\r\n');
  const multipartPackage = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': `multipart/related; type="application/xml"; boundary=${boundary}` }, body: mimePackage });
  t.equal(multipartPackage.status, 415);
  t.match(await multipartPackage.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /MIME multipart packages are not taken: put each attachment in the package's AttachmentEncoded\/Attachment \(base64\)/ });

  const anonymous = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { 'content-type': `multipart/related; boundary=${boundary}` }, body: mimePackage });
  t.equal(anonymous.status, 401, 'who is asking is checked first');
});
