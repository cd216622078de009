// What a message waiting for an earlier one of its key (WaitForEarlierMessage) is told about
// the bus: an earlier message of the same sender, recipient and correlation id whose outcome is
// still open keeps it waiting; delivered or dead-lettered ones, later ones, other dossiers, other
// recipients and other senders (another agency's dossier under the same code) do not. Read from the message read model on a real PostgreSQL.
import t from 'tap';
import { openTestDatabase } from './helpers/test-database.js';
import { earlierMessagesIn } from '../services/runner/earlier-messages.js';
import type { Envelope } from '../services/platform/envelope.js';

t.test('an earlier message of the key still on the bus, or none', async (t) => {
  const db = await openTestDatabase(t, 'earlier-messages');
  const portal = '000.00.00.G22';
  const agency = '000.00.15.H49';
  const row = (id: string, at: string, status: string, correlationId = 'HS-1', toMember = portal, fromMember = agency) =>
    db.query(
      `INSERT INTO console_messages (id, type, family, from_member, from_system, to_member, to_service, correlation_id, status, status_at, accepted_at, last_event_at)
       VALUES ($1, 'dossier.progress', 'dossier', $6, 'so-tp-motcua', $2, 'dvcqg-dossier', $3, $4, $5, $5, $5)`,
      [id, toMember, correlationId, status, at, fromMember],
    );
  const waiting = (id: string, time: string, correlationId = 'HS-1', fromMember = agency) =>
    ({ id, time, correlationId, from: { member: fromMember, system: 'so-tp-motcua' }, to: { member: portal, service: 'dvcqg-dossier' } }) as Envelope;
  const earlier = earlierMessagesIn(db, 600_000);
  t.equal(earlier.graceMs, 600_000);

  await row('m5', '2026-12-04T08:00:05.000Z', 'accepted');
  t.equal(await earlier.openBefore(waiting('m5', '2026-12-04T08:00:05.000Z')), null, 'alone: nothing to wait for (itself does not count)');

  await row('m1', '2026-12-04T08:00:01.000Z', 'delivered');
  await row('m2', '2026-12-04T08:00:02.000Z', 'dead_lettered');
  await row('m9', '2026-12-04T08:00:09.000Z', 'accepted');
  await row('x1', '2026-12-04T08:00:01.000Z', 'accepted', 'HS-2');
  await row('y1', '2026-12-04T08:00:01.000Z', 'failed', 'HS-1', '000.00.15.H49');
  await row('o1', '2026-12-04T08:00:01.000Z', 'failed', 'HS-1', portal, '000.00.20.H49');
  t.equal(await earlier.openBefore(waiting('m5', '2026-12-04T08:00:05.000Z')), null, "delivered and dead-lettered earlier ones, a later one, another dossier, another recipient, another agency's message under the same code: none counts");
  t.equal(await earlier.openBefore(waiting('o2', '2026-12-04T08:00:06.000Z', 'HS-1', '000.00.20.H49')), 'o1', "the other agency's waiting message counts for that agency's later one");

  await row('m3', '2026-12-04T08:00:03.000Z', 'failed');
  t.equal(await earlier.openBefore(waiting('m5', '2026-12-04T08:00:05.000Z')), 'm3', 'an earlier one waiting for its retry');
  t.equal(await earlier.openBefore(waiting('m3', '2026-12-04T08:00:03.000Z')), null, 'which itself has nothing open before it');

  // Ids of messages sent with an Idempotency-Key do not sort by time: acceptance time first.
  await row('a-late-id-sorting-first', '2026-12-04T08:00:04.000Z', 'accepted', 'HS-3');
  await row('z-early', '2026-12-04T08:00:02.000Z', 'accepted', 'HS-3');
  t.equal(await earlier.openBefore(waiting('a-late-id-sorting-first', '2026-12-04T08:00:04.000Z', 'HS-3')), 'z-early', 'accepted earlier, whatever its id');
  t.equal(await earlier.openBefore(waiting('z-early', '2026-12-04T08:00:02.000Z', 'HS-3')), null);
  // Accepted in the same millisecond: the id decides, as acceptanceOrder() does.
  await row('b', '2026-12-04T08:00:07.000Z', 'accepted', 'HS-4');
  await row('c', '2026-12-04T08:00:07.000Z', 'accepted', 'HS-4');
  t.equal(await earlier.openBefore(waiting('c', '2026-12-04T08:00:07.000Z', 'HS-4')), 'b');
  t.equal(await earlier.openBefore(waiting('b', '2026-12-04T08:00:07.000Z', 'HS-4')), null);
});
