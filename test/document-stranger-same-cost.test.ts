// A document a caller may not see is answered like one that does not exist (404
// DOCUMENT_NOT_FOUND), and must cost what one that does not exist costs. DocumentIds are
// guessable (<senderOrganId>,<YYYY/MM/DD>,<number/notation>), and the gateway read a found
// document's recipients, status history and packages, and decrypted its subject, before it
// decided the caller was a stranger: the time the 404 took told a stranger which document
// numbers an agency had sent. Made visible here by holding the history table: a request that
// reads it waits, one that decides on the document's row alone does not.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBus } from './helpers/test-bus.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');
const DOCUMENT_ID = '000.00.00.H49,2026/05/04,202/UBND-KGVX';

t.test('a stranger is refused a document before anything more than its row is read', async (t) => {
  const bus = await startTestBus(t, { name: 'document-stranger-cost', runner: false });
  const sender = await bus.client('vp-ubnd-qlvb').accessToken();
  const posted = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${sender}`, 'content-type': 'application/xml' }, body: sdkPackage });
  t.equal(posted.status, 202, 'the document went through the bus');

  const stranger = await bus.client('so-tttt-qlvb').accessToken();
  const recipient = await bus.client('so-tp-qlvb').accessToken();
  const observer = await bus.client('lgsp-observer').accessToken();
  const ask = (token: string, documentId: string) =>
    fetch(`${bus.gateway.url}/v1/documents?documentId=${encodeURIComponent(documentId)}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) })
      .then(async (res) => ({ status: res.status, body: await res.json() }))
      .catch((err: Error) => ({ status: 0, body: { error: err.name } }));

  // The status history and the packages held by a transaction of the test's own: a statement
  // reading either waits until it ends.
  const holder = await bus.db.pool.connect();
  t.teardown(() => holder.release());
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE document_history, document_packages IN ACCESS EXCLUSIVE MODE');
  try {
    const unknown = await ask(stranger, '000.00.00.H49,2026/05/04,999/UBND-KGVX');
    t.equal(unknown.status, 404, 'a DocumentId that never went through the bus: 404 at once');
    const foreign = await ask(stranger, DOCUMENT_ID);
    t.equal(foreign.status, 404, 'a document the caller may not see: 404 at once too, without reading its history');
    t.match(foreign.body, { code: 'DOCUMENT_NOT_FOUND' });
    t.same(Object.keys(foreign.body).sort(), Object.keys(unknown.body).sort(), 'the same answer');
  } finally {
    await holder.query('ROLLBACK');
  }

  const mine = await ask(recipient, DOCUMENT_ID);
  t.equal(mine.status, 200, 'a recipient still reads it');
  t.match(mine.body, { documentId: DOCUMENT_ID, recipients: [{ member: '000.00.15.H49' }] });
  t.equal(mine.body.recipients.length, 1, 'its own row only');
  t.ok(mine.body.subject, 'with the subject');
  const overseen = await ask(observer, DOCUMENT_ID);
  t.equal(overseen.status, 200, 'an observer follows it');
  t.equal(overseen.body.subject, undefined, 'without its contents');
  t.equal(overseen.body.recipients.length, 2, 'every recipient');
});
