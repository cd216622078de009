// The console's trace lists "messages with the same correlation id" as the message's thread.
// Correlation ids are the senders' own ("CV-1"): another agency's unrelated message with the same
// id appeared in the thread, sending the operator after the wrong exchange. The thread now keeps
// to messages one of the message's two agencies sends or receives.
import t from 'tap';
import { createTestDatabase } from './helpers/test-database.js';
import { openDatabase } from '../services/platform/database.js';
import { migrateDatabase } from '../services/platform/migrations.js';
import { MessageIndex } from '../services/console/message-index.js';

t.test('related messages keep to the agencies of the message', async (t) => {
  const database = await createTestDatabase('console-related');
  t.teardown(() => database.drop());
  await migrateDatabase(database.url);
  const db = await openDatabase(database.url, { separatePool: 'console-related-test' });
  t.teardown(() => db.close());
  const row = async (id: string, from: string, to: string, at: string) => db.query(
    `INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id, accepted_at, last_event_at)
     VALUES ($1, 'notice.send', 'notice', $2, 'sys', $3, 'notice', 'CV-1', $4, $4)`,
    [id, from, to, at],
  );
  await row('m-asked', '000.00.12.H49', '000.00.15.H49', '2026-12-01T08:00:00Z');
  await row('m-answer', '000.00.15.H49', '000.00.12.H49', '2026-12-01T09:00:00Z');
  await row('m-copy', '000.00.12.H49', '000.00.00.H49', '2026-12-01T08:00:01Z');
  await row('m-elsewhere', '000.00.20.H49', '000.00.21.H49', '2026-12-01T08:30:00Z');
  const index = new MessageIndex(db);
  const asked = await index.get('m-asked');
  t.ok(asked, 'the message is found');
  const related = await index.related(asked!);
  t.same(related.map((m) => m.id), ['m-copy', 'm-answer'], "the answer and the copy to a third agency are the thread; another pair's CV-1 is not");
});
