// An attachment's sha256 written in upper case (C#'s Convert.ToHexString, Java's HexFormat with
// toUpperCase) was compared as written: inline, the gateway answered 422 ATTACHMENT_DIGEST_MISMATCH
// "the content's SHA-256 is cccb…, not CCCB…"; by reference, 422 ATTACHMENT_NOT_FOUND "no uploaded
// attachment CCCB… (POST /v1/attachments first)" for a file just uploaded. The schema asks for
// lower-case hex: the refusal now says that, for the field.
import t from 'tap';
import { createHash } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';

const bytes = Buffer.from('Bản báo cáo tổng hợp\n');
const digest = createHash('sha256').update(bytes).digest('hex');

function edocSend(n: number, attachment: Record<string, unknown>) {
  return {
    type: 'edoc.send',
    to: { member: '000.00.24.H49' },
    payload: {
      header: {
        from: { organId: '000.00.00.H49', organName: 'Văn phòng UBND tỉnh' },
        to: [{ organId: '000.00.24.H49' }],
        documentId: `000.00.00.H49,2026/04/20,${n}/VP-TH`,
        code: { codeNumber: String(n), codeNotation: 'VP-TH' },
        promulgationInfo: { place: 'Hòa An', promulgationDate: '2026/04/20' },
        documentType: { type: 6, typeName: 'Công văn' },
        subject: 'Đề nghị báo cáo',
      },
      attachments: [{ contentId: 'cid:bao-cao.txt', name: 'Báo cáo.txt', contentType: 'text/plain', ...attachment }],
    },
  };
}

t.test('an upper-case attachment digest is refused as not lower-case hex, not as another or a missing file', async (t) => {
  const bus = await startTestBus(t, { name: 'attachment-digest-upper-case', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const post = async (path: string, body: BodyInit, contentType: string) => {
    const res = await fetch(`${bus.gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
    return { status: res.status, body: await res.json() };
  };
  const uploaded = await post('/v1/attachments', new Uint8Array(bytes), 'application/octet-stream');
  t.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  t.equal(uploaded.body.sha256, digest);

  const lowerCaseDigestNamed = { code: 'VALIDATION_FAILED', errors: [{ field: 'payload.attachments[0].sha256', message: /lower-case hexadecimal/ }] };
  const inline = await post('/v1/messages', JSON.stringify(edocSend(9101, { content: bytes.toString('base64'), sha256: digest.toUpperCase(), size: bytes.length })), 'application/json');
  t.equal(inline.status, 400, JSON.stringify(inline.body));
  t.match(inline.body, lowerCaseDigestNamed, 'inline content with its digest in upper case');

  const byReference = await post('/v1/messages', JSON.stringify(edocSend(9102, { sha256: digest.toUpperCase(), size: bytes.length })), 'application/json');
  t.equal(byReference.status, 400, JSON.stringify(byReference.body));
  t.match(byReference.body, lowerCaseDigestNamed, 'a reference to the uploaded file in upper case');

  const lowerCase = await post('/v1/messages', JSON.stringify(edocSend(9103, { sha256: digest, size: bytes.length })), 'application/json');
  t.equal(lowerCase.status, 202, `the same reference in lower case is taken: ${JSON.stringify(lowerCase.body)}`);
});
