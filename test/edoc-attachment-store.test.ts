// The attachment store on PostgreSQL: content-addressed, verified on every read; a missing or
// corrupted attachment is an error naming the fault, never bytes.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { AttachmentUnavailable, PostgresAttachmentStore, reprDigest, sha256Hex } from '../services/attachments/attachment-store.js';
import { openDatabase } from '../services/platform/database.js';
import { createTestDatabase } from './helpers/test-database.js';

t.test('put, read, stat, missing, corrupted', async (t) => {
  const database = await createTestDatabase('attachments');
  const db = await openDatabase(database.url);
  t.teardown(async () => {
    await db.close();
    await database.drop();
  });
  const store = new PostgresAttachmentStore(db);
  const bytes = Buffer.from('Quyết định số 125/QĐ-UBND (dữ liệu mẫu)');
  const put = await store.put(bytes);
  t.same(put, { sha256: sha256Hex(bytes), size: bytes.length });
  t.same(await store.put(bytes), put, 'idempotent');
  t.equal((await db.query('SELECT 1 FROM attachment_blobs')).rowCount, 1, 'stored once');
  t.same(await store.read(put.sha256, bytes.length), bytes);
  t.same(await store.stat(put.sha256), { size: bytes.length });
  t.equal(reprDigest(put.sha256), `sha-256=:${Buffer.from(put.sha256, 'hex').toString('base64')}:`);

  const big = randomBytes(3 * 1024 * 1024 + 17);
  const bigPut = await store.put(big);
  t.ok((await store.read(bigPut.sha256, big.length)).equals(big), 'megabytes round-trip byte for byte');

  await t.rejects(store.read(put.sha256, bytes.length + 1), { name: 'AttachmentUnavailable', fault: 'corrupted' }, 'wrong size');
  await db.query('UPDATE attachment_blobs SET content = $1 WHERE sha256 = $2', [Buffer.alloc(bytes.length, 0x20), put.sha256]);
  const corrupted = await store.read(put.sha256).catch((err) => err);
  t.ok(corrupted instanceof AttachmentUnavailable);
  t.match(corrupted, { fault: 'corrupted', sha256: put.sha256, message: /corrupted/ });
  await db.query('DELETE FROM attachment_blobs WHERE sha256 = $1', [put.sha256]);
  await t.rejects(store.read(put.sha256), { fault: 'missing', message: /missing/ });
  t.equal(await store.stat(put.sha256), null);
  await t.rejects(store.read('../../etc/passwd'), TypeError, 'only digests address the store');
});
