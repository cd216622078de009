// The filesystem attachment store: content-addressed, verified on every read; a missing or
// corrupted attachment is an error naming the fault, never bytes.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttachmentUnavailable, FilesystemAttachmentStore, reprDigest, sha256Hex } from '../services/attachments/attachment-store.js';

t.test('put, read, stat, missing, corrupted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-attachments-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FilesystemAttachmentStore(dir);
  const bytes = Buffer.from('Quyết định số 125/QĐ-UBND (dữ liệu mẫu)');
  const put = await store.put(bytes);
  t.same(put, { sha256: sha256Hex(bytes), size: bytes.length });
  t.same(await store.put(bytes), put, 'idempotent');
  t.same(readdirSync(join(dir, put.sha256.slice(0, 2))), [put.sha256], 'no temporary file left behind');
  t.same(await store.read(put.sha256, bytes.length), bytes);
  t.same(await store.stat(put.sha256), { size: bytes.length });
  t.equal(reprDigest(put.sha256), `sha-256=:${Buffer.from(put.sha256, 'hex').toString('base64')}:`);

  await t.rejects(store.read(put.sha256, bytes.length + 1), { name: 'AttachmentUnavailable', fault: 'corrupted' }, 'wrong size');
  writeFileSync(join(dir, put.sha256.slice(0, 2), put.sha256), Buffer.alloc(bytes.length, 0x20));
  const corrupted = await store.read(put.sha256).catch((err) => err);
  t.ok(corrupted instanceof AttachmentUnavailable);
  t.match(corrupted, { fault: 'corrupted', sha256: put.sha256, message: /corrupted/ });
  unlinkSync(join(dir, put.sha256.slice(0, 2), put.sha256));
  await t.rejects(store.read(put.sha256), { fault: 'missing', message: /missing/ });
  t.equal(await store.stat(put.sha256), null);
  await t.rejects(store.read('../../etc/passwd'), TypeError, 'only digests address the store');
});
