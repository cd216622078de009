// Uploads no document names are deleted past LGSP_ATTACHMENT_UNREFERENCED_RETENTION_DAYS
// (attachment-retention.ts): an upload that no edoc.send ever named stayed for ever, bounded by
// nothing but the rate limit. An attachment a document names is kept from the document's commit
// on; one being named by a document that is committing is skipped by the sweep; one the sweep
// deleted first makes the document's marking see it gone. Under the gateway's own database role.
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { migrateDatabase } from '../services/platform/migrations.js';
import { openDatabase, type Database } from '../services/platform/database.js';
import { PostgresAttachmentStore } from '../services/attachments/attachment-store.js';
import { pruneUnreferencedAttachments, startAttachmentRetention } from '../services/attachments/attachment-retention.js';
import { loadConfig } from '../services/platform/config.js';
import { createLogger } from '../services/platform/logger.js';
import { createTestDatabase } from './helpers/test-database.js';
import { startTestBus } from './helpers/test-bus.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const WEEK_AGO = () => new Date(Date.now() - 7 * DAY_MS);

async function gatewayDatabase(t: Test): Promise<{ db: Database; owner: Database }> {
  const database = await createTestDatabase('attachment-retention');
  t.teardown(() => database.drop());
  await migrateDatabase(database.url);
  const owner = await openDatabase(database.url);
  t.teardown(() => owner.close());
  const db = await openDatabase(await database.serviceUrl('gateway'));
  t.teardown(() => db.close());
  return { db, owner };
}

/** Makes every stored attachment `days` older. */
const age = (owner: Database, days: number) => owner.query('UPDATE attachment_blobs SET stored_at = stored_at - make_interval(days => $1)', [days]);
const stored = async (owner: Database) => (await owner.query<{ sha256: string }>('SELECT sha256 FROM attachment_blobs ORDER BY sha256')).rows.map((r) => r.sha256);

t.test('unnamed uploads past the retention go with their read grants; named ones and fresh uploads stay', async (t) => {
  const { db, owner } = await gatewayDatabase(t);
  const store = new PostgresAttachmentStore(db);
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => store.put(randomBytes(100))));
  for (const { sha256 } of [a, b, c]) await owner.query("INSERT INTO document_attachment_access (sha256, member) VALUES ($1, '000.00.00.H49')", [sha256]);
  t.same(await store.markReferenced([b.sha256, b.sha256], db), [], 'a stored attachment is marked');
  await age(owner, 10);
  const fresh = await store.put(randomBytes(100));

  t.equal(await pruneUnreferencedAttachments(db, WEEK_AGO(), 1), 2, 'the two unnamed uploads past the retention, one per statement');
  t.same(await stored(owner), [b.sha256, fresh.sha256].sort(), 'the named one and the fresh upload stay');
  const grants = (await owner.query<{ sha256: string }>('SELECT sha256 FROM document_attachment_access')).rows.map((r) => r.sha256);
  t.same(grants, [b.sha256], 'who could read the deleted ones goes with them');
  t.equal(await pruneUnreferencedAttachments(db, WEEK_AGO()), 0, 'a second pass finds nothing');
  t.same(await store.markReferenced([a.sha256, b.sha256], db), [a.sha256], 'a deleted one is reported gone to a document naming it');
});

t.test('the same bytes uploaded again start their retention again', async (t) => {
  const { db, owner } = await gatewayDatabase(t);
  const store = new PostgresAttachmentStore(db);
  const bytes = randomBytes(100);
  await store.put(bytes);
  await age(owner, 10);
  await store.put(bytes);
  t.equal(await pruneUnreferencedAttachments(db, WEEK_AGO()), 0, 'uploaded again today: kept');
  await age(owner, 10);
  t.equal(await pruneUnreferencedAttachments(db, WEEK_AGO()), 1, 'ten days after the last upload: deleted');
});

t.test('an upload a document is naming in a transaction not yet committed is not swept', async (t) => {
  const { db, owner } = await gatewayDatabase(t);
  const store = new PostgresAttachmentStore(db);
  const upload = await store.put(randomBytes(100));
  await age(owner, 10);
  await db.transaction(async (tx) => {
    t.same(await store.markReferenced([upload.sha256], tx), []);
    // Another gateway's sweep meanwhile: the row is locked by the document, so skipped, not waited for.
    t.equal(await pruneUnreferencedAttachments(db, new Date(Date.now() + DAY_MS)), 0, 'skipped while the document commits');
  });
  t.equal(await pruneUnreferencedAttachments(db, new Date(Date.now() + DAY_MS)), 0, 'named once committed: kept for good');
  t.same(await stored(owner), [upload.sha256]);
});

t.test('every gateway sweeps on its own; retention 0 keeps every upload; the setting', async (t) => {
  const { db, owner } = await gatewayDatabase(t);
  const store = new PostgresAttachmentStore(db);
  await store.put(randomBytes(100));
  await age(owner, 30);
  const log = createLogger('test', 'silent');
  const keepAll = startAttachmentRetention({ db, retentionDays: 0, log, intervalMs: 20 });
  await new Promise((r) => setTimeout(r, 200));
  await keepAll.stop();
  t.equal((await stored(owner)).length, 1, 'retention 0: kept');
  const sweeping = startAttachmentRetention({ db, retentionDays: 7, log, intervalMs: 20 });
  for (let i = 0; i < 100 && (await stored(owner)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await sweeping.stop();
  t.equal((await stored(owner)).length, 0, 'swept by the timer');
  t.equal(loadConfig({}, {}).attachmentUnreferencedRetentionDays, 7);
  t.equal(loadConfig({}, { LGSP_ATTACHMENT_UNREFERENCED_RETENTION_DAYS: '30' }).attachmentUnreferencedRetentionDays, 30);
});

t.test('on the bus: attachments an edoc.send names, inline or uploaded, are kept; an unnamed upload goes and is then unknown', async (t) => {
  const bus = await startTestBus(t, { name: 'attachment-retention-bus', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const upload = async (bytes: Buffer) => {
    const res = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
    t.equal(res.status, 201);
    return ((await res.json()) as { sha256: string }).sha256;
  };
  const named = randomBytes(300);
  const unnamed = randomBytes(300);
  const inline = randomBytes(300);
  const namedSha = await upload(named);
  const unnamedSha = await upload(unnamed);
  const inlineSha = createHash('sha256').update(inline).digest('hex');
  const send = (n: number, attachments: Record<string, unknown>[]) =>
    fetch(`${bus.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
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
            subject: 'Tài liệu kèm theo',
          },
          attachments,
        },
      }),
    });
  const n = 9000 + Math.floor(Math.random() * 900);
  const sent = await send(n, [
    { contentId: 'cid:a', name: 'Tờ trình.pdf', contentType: 'application/pdf', sha256: namedSha, size: named.length },
    { contentId: 'cid:b', name: 'Phụ lục.pdf', contentType: 'application/pdf', content: inline.toString('base64') },
  ]);
  t.equal(sent.status, 202, await sent.clone().text());

  await age(bus.db, 10);
  t.equal(await pruneUnreferencedAttachments(bus.db, WEEK_AGO()), 1, 'only the upload no document named');
  const status = async (sha256: string) => (await fetch(`${bus.gateway.url}/v1/attachments/${sha256}`, { headers: { authorization: `Bearer ${token}` } })).status;
  t.equal(await status(namedSha), 200, 'the uploaded attachment the document names stays');
  t.equal(await status(inlineSha), 200, 'the inline one too');
  t.equal(await status(unnamedSha), 404, 'the unnamed upload is gone, as if never uploaded');
  const late = await send(n + 1, [{ contentId: 'cid:c', name: 'Muộn.pdf', contentType: 'application/pdf', sha256: unnamedSha, size: unnamed.length }]);
  t.equal(late.status, 422);
  t.match(await late.json(), { code: 'ATTACHMENT_NOT_FOUND' }, 'a document naming it later is refused: upload it again');
});
