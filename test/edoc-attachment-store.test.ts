// The attachment store on PostgreSQL: content-addressed, verified on every read; a missing or
// corrupted attachment is an error naming the fault, never bytes.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { AttachmentUnavailable, PostgresAttachmentStore, reprDigest, sha256Hex } from '../services/attachments/attachment-store.js';
import { openDatabase } from '../services/platform/database.js';
import { createTestDatabase, openTestDatabase } from './helpers/test-database.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKeys } from './helpers/test-keys.js';
import { openDecryptionKeyring } from '../services/platform/key-files.js';
import { attachmentSealing, payloadOpener } from '../services/platform/payload-keyring.js';

t.test('put, read, stat, missing, corrupted', async (t) => {
  const db = await openTestDatabase(t, 'attachments');
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

t.test('encrypted at rest: the row holds ciphertext that both the runner and the gateway open, tampering is a corrupted attachment', async (t) => {
  const database = await createTestDatabase('attachments-sealed');
  const db = await openDatabase(database.url);
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-att-keys-'));
  t.teardown(async () => {
    await db.close();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const keys = await createTestKeys(dir);
  const storeOf = (service: 'runner' | 'gateway') => new PostgresAttachmentStore(db, attachmentSealing(keys.publicKeys, payloadOpener(openDecryptionKeyring(keys.keysDir, service))));
  const gateway = storeOf('gateway');
  const marker = `attachment-marker-${randomBytes(8).toString('hex')}`;
  const bytes = Buffer.from(`Biên bản ${marker}`);
  const put = await gateway.put(bytes);
  t.same(put, { sha256: sha256Hex(bytes), size: bytes.length }, 'addressed by the plaintext digest, as before');
  const row = (await db.query<{ content: Buffer; sealing: string; size: number }>('SELECT content, sealing, size FROM attachment_blobs WHERE sha256 = $1', [put.sha256])).rows[0];
  t.notOk(row.content.includes(Buffer.from(marker)), 'no plaintext in the row');
  t.equal(row.size, bytes.length, 'the size stays in clear');
  t.match(JSON.parse(row.sealing), { protected: String, iv: String, tag: String, recipients: [{ header: { alg: 'ECDH-ES+A256KW' } }, { header: { alg: 'ECDH-ES+A256KW' } }] });
  t.same(await storeOf('runner').read(put.sha256, bytes.length), bytes, 'the runner opens it');
  t.same(await gateway.read(put.sha256, bytes.length), bytes, 'the gateway opens it');
  await t.rejects(new PostgresAttachmentStore(db).read(put.sha256), { fault: 'corrupted', message: /no key/ }, 'a store without keys refuses');

  const flipped = Buffer.from(row.content);
  flipped[0] ^= 1;
  await db.query('UPDATE attachment_blobs SET content = $1 WHERE sha256 = $2', [flipped, put.sha256]);
  await t.rejects(gateway.read(put.sha256), { name: 'AttachmentUnavailable', fault: 'corrupted', message: /corrupted/ }, 'a changed ciphertext byte');
});
