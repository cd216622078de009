// Large signed packages are verified in a worker thread: the result is the same as inline, and
// the event loop keeps turning meanwhile (a gateway goes on answering other requests).
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEdxml, encodeEdxml } from '../services/edxml/edxml-codec.js';
import { signEdxml } from '../services/edxml/xml-dsig.js';
import { ensureTestSigningCa } from '../services/edxml/test-signing-ca.js';
import { INLINE_LIMIT_BYTES, SignatureVerifier } from '../services/edxml/signature-verifier.js';

t.test('a 2 MB signed package is verified off the event loop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-verifier-'));
  const ca = ensureTestSigningCa(dir);
  const verifier = new SignatureVerifier([ca.caFile]);
  t.teardown(async () => {
    await verifier.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = decodeEdxml(readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'))).payload;
  const bytes = Buffer.alloc(2 * 1024 * 1024, 0x37);
  const xml = encodeEdxml('edoc.send', { ...base, attachments: [{ contentId: 'cid:lon', name: 'lớn.bin', contentType: 'application/octet-stream', content: bytes.toString('base64') }] }, { shape: 'sdk' });
  const signed = signEdxml(xml, ca.signer('s', '/CN=Người ký (DEMO)'));
  t.ok(Buffer.byteLength(signed) > INLINE_LIMIT_BYTES, 'big enough for the worker');

  let ticks = 0;
  let longestGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
    ticks++;
  }, 10);
  const started = performance.now();
  const result = await verifier.verify(signed);
  const ms = performance.now() - started;
  clearInterval(timer);
  t.match(result, { result: 'valid', signer: 'CN=Người ký (DEMO)' });
  t.comment(`verified ${(Buffer.byteLength(signed) / 1048576).toFixed(1)} MB in ${ms.toFixed(0)} ms; ${ticks} timer ticks meanwhile, longest gap ${longestGap.toFixed(0)} ms`);
  // Inline, the longest gap would be the whole verification; in the worker it is scheduling noise
  // (generous: the machine may be shared).
  t.ok(ticks > 5 && longestGap < ms / 4, 'the event loop was not blocked');
  const tampered = signed.replace('Về việc báo cáo', 'Về việc bao cáo');
  t.match(await verifier.verify(tampered), { result: 'invalid' }, 'a changed byte in the worker too');
  t.match(await verifier.verify(xml), { result: 'unsigned' });
});
