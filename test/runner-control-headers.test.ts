// Retry control headers are not signed, so the runner trusts them only within bounds: a copied
// record with a far `lgsp-not-before` or a huge `lgsp-attempt` cannot stall its partition.
import t from 'tap';
import { boundedAttempt, boundedDueTime } from '../services/runner/control-headers.js';

t.test('attempt and due time are bounded', async (t) => {
  t.equal(boundedAttempt(undefined, 5), 1);
  t.equal(boundedAttempt('3', 5), 3);
  t.equal(boundedAttempt('999999', 5), 5, 'never beyond the policy maximum');
  for (const junk of ['0', '-4', 'abc', 'NaN', 'Infinity', '']) t.equal(boundedAttempt(junk, 5), 1, `"${junk}"`);
  const now = 1_800_000_000_000;
  t.equal(boundedDueTime(undefined, now, 30_000), 0, 'no header: due at once');
  t.equal(boundedDueTime(String(now + 5000), now, 30_000), now + 5000, 'a normal retry delay is kept');
  t.equal(boundedDueTime(String(now + 365 * 24 * 3600_000), now, 30_000), now + 30_000, 'a year ahead waits one maximum delay');
  t.equal(boundedDueTime('soon', now, 30_000), now, 'garbage: due at once');
});

t.test('a dead letter with a malformed time header is ingested, not crash-looped on', async (t) => {
  const { deadLetterFromRecord } = await import('../services/console/bus-ingest.js');
  const record = (failedAt: string) => ({
    topic: 'lgsp.dlq.relay', partition: 0, offset: '7', key: null, value: Buffer.from('{}'),
    headers: { 'lgsp-failed-at': failedAt, 'lgsp-dlq-reason': 'x' },
    verification: { ok: false as const, reason: 'record is not signed' },
  });
  for (const junk of ['not a time', '99999-99-99', '']) {
    const dl = deadLetterFromRecord(record(junk), 'relay');
    t.ok(Math.abs(Date.parse(dl.failedAt) - Date.now()) < 60_000, `"${junk}": the ingest time instead`);
  }
  t.equal(deadLetterFromRecord(record('2026-11-30T10:00:00.000Z'), 'relay').failedAt, '2026-11-30T10:00:00.000Z', 'a good time is kept');
});
