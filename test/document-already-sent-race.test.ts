// Two posts of one new document that overlap (a QLVB whose first post timed out on its side and
// posted again while the first was still being taken) end in one 202 and a 409 that names the
// message the document went in, as a later repost's does. The overlapping one used to be refused
// with "was just sent to the same recipient by another request" and no `messageId`, so the
// vendor had no message to follow.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBus } from './helpers/test-bus.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');

t.test('a repost that overlaps the first post is refused naming the message', async (t) => {
  const bus = await startTestBus(t, { name: 'already-sent-race', runner: false });
  const office = bus.client('vp-ubnd-qlvb');
  const token = await office.accessToken();
  const post = async () => {
    const res = await fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, body: sdkPackage });
    return { status: res.status, body: await res.json() };
  };

  // Recipient rows cannot be written while the table is held in SHARE mode: both posts get past
  // the "already sent?" check (nothing committed yet) and wait, one on the table, the other on
  // the first one's document row. Released, the first commits and the second collides with it.
  const holder = await bus.db.pool.connect();
  let answers: { status: number; body: Record<string, unknown> }[];
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE document_recipients IN SHARE MODE');
    const posts = [post(), post()];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { rows } = await bus.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1",
        [(holder as unknown as { processID: number }).processID],
      );
      if (Number(rows[0].n) >= 2) break;
      if (Date.now() > deadline) throw new Error('the two posts never both waited on the recipient rows');
      await new Promise((r) => setTimeout(r, 20));
    }
    await holder.query('COMMIT');
    answers = await Promise.all(posts);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release();
  }

  const accepted = answers.filter((a) => a.status === 202);
  const refused = answers.filter((a) => a.status === 409);
  t.equal(accepted.length, 1, 'one post accepted');
  t.equal(refused.length, 1, 'the other refused');
  const recipients = accepted[0].body.recipients as { member: string; id: string }[];
  const toSoTuPhap = recipients.find((r) => r.member === '000.00.15.H49')!.id;
  t.match(refused[0].body, {
    code: 'DOCUMENT_ALREADY_SENT',
    messageId: toSoTuPhap,
    detail: new RegExp(`already sent to 000\\.00\\.15\\.H49, as message ${toSoTuPhap} \\(GET /v1/messages/${toSoTuPhap}\\)`),
    errors: [{ field: 'edXMLHeader/MessageHeader/To[1]', message: `already sent to 000.00.15.H49 (message ${toSoTuPhap})` }],
  });
  t.equal((await office.status(toSoTuPhap)).status, 200, 'the message named is one the sender may follow');
});
