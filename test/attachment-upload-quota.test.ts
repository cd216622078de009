// A member's uploads no document names yet are bounded (LGSP_ATTACHMENT_UNREFERENCED_QUOTA_BYTES,
// upload-quota.ts): within their retention nothing but the rate limit bounded them, so one agency
// system uploading and never sending could fill the database. Past the quota: 413
// UPLOAD_QUOTA_EXCEEDED, nothing stored; the same bytes again add nothing; another member has a
// quota of its own; a document naming the uploads frees them from it.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../services/platform/config.js';
import { startTestBus } from './helpers/test-bus.js';

t.test('the setting', async (t) => {
  t.equal(loadConfig({}, {}).attachmentUnreferencedQuotaBytes, 1024 * 1024 * 1024, '1 GiB by default');
  t.equal(loadConfig({}, { LGSP_ATTACHMENT_UNREFERENCED_QUOTA_BYTES: '0' }).attachmentUnreferencedQuotaBytes, 0, '0: no quota');
  t.throws(() => loadConfig({}, { LGSP_ATTACHMENT_UNREFERENCED_QUOTA_BYTES: '-1' }), /LGSP_ATTACHMENT_UNREFERENCED_QUOTA_BYTES/);
});

t.test('on the bus: past the quota an upload is refused and nothing is stored; a document naming uploads frees them', async (t) => {
  const bus = await startTestBus(t, { name: 'attachment-upload-quota', runner: false, config: { attachmentUnreferencedQuotaBytes: 10_000 } });
  const sender = await bus.client('vp-ubnd-qlvb').accessToken();
  const other = await bus.client('so-tp-qlvb').accessToken();
  const upload = (token: string, bytes: Buffer) =>
    fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  const blobs = async () => Number((await bus.db.query<{ n: string }>('SELECT count(*) AS n FROM attachment_blobs')).rows[0].n);

  const first = randomBytes(6_000);
  const firstRes = await upload(sender, first);
  t.equal(firstRes.status, 201);
  const firstSha = ((await firstRes.json()) as { sha256: string }).sha256;
  t.equal((await upload(sender, first)).status, 201, 'the same bytes again add nothing to what is held');

  const refused = await upload(sender, randomBytes(5_000));
  t.equal(refused.status, 413);
  t.match(refused.headers.get('content-type'), /application\/problem\+json/);
  const problem = (await refused.json()) as { code: string; detail: string; quotaBytes: number; heldBytes: number };
  t.match(problem, { code: 'UPLOAD_QUOTA_EXCEEDED', quotaBytes: 10_000, heldBytes: 6_000 });
  t.match(problem.detail, /hold 6000 bytes; with this one \(5000 bytes\) they would pass the quota of 10000 bytes/);
  t.equal(await blobs(), 1, 'nothing of the refused upload was stored');
  t.equal((await upload(sender, randomBytes(4_000))).status, 201, 'up to the quota itself is taken');

  t.equal((await upload(other, randomBytes(5_000))).status, 201, 'another member counts apart');

  const sent = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sender}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'edoc.send',
      to: { member: '000.00.24.H49' },
      payload: {
        header: {
          from: { organId: '000.00.00.H49', organName: 'Văn phòng UBND tỉnh' },
          to: [{ organId: '000.00.24.H49' }],
          documentId: `000.00.00.H49,2026/04/20,${8000 + Math.floor(Math.random() * 900)}/VP-TH`,
          code: { codeNumber: '1', codeNotation: 'VP-TH' },
          promulgationInfo: { place: 'Hòa An', promulgationDate: '2026/04/20' },
          documentType: { type: 6, typeName: 'Công văn' },
          subject: 'Tài liệu kèm theo',
        },
        attachments: [{ contentId: 'cid:a', name: 'Tờ trình.pdf', contentType: 'application/pdf', sha256: firstSha, size: first.length }],
      },
    }),
  });
  t.equal(sent.status, 202, await sent.clone().text());
  t.equal((await upload(sender, randomBytes(5_000))).status, 201, 'the upload a document named no longer counts');
});
