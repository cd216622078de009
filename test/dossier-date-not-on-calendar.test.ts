// A one-stop system that wrote a day the calendar does not have (2026-02-30, a date computed
// as "the 30th of the next month") was answered "payload.receivedAt must be an RFC 3339 date and
// time with its offset, e.g. 2026-01-15T08:30:00+07:00": the vendor compared form and offset with
// the example, found them alike, and did not see the day. The format message now says the day must
// exist too, still naming the field, as 400 VALIDATION_FAILED.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a dossier date on a day the calendar does not have says so', async (t) => {
  const bus = await startTestBus(t, { name: 'dossier-date-not-on-calendar', runner: false });
  const client = bus.client('so-tp-motcua');
  const sync = (receivedAt: string, dueAt = '2026-03-29T17:00:00+07:00') =>
    client.send({
      type: 'dossier.sync',
      to: { member: '000.00.00.G22', service: 'dvcqg-dossier' },
      correlationId: '000.00.15.H49-260115-0008',
      payload: {
        dossierCode: '000.00.15.H49-260115-0008',
        procedureCode: '1.001234',
        sectorCode: 'LLTP',
        applicant: { name: 'Nguyễn Văn An', kind: 'citizen' },
        receivedAt,
        dueAt,
        status: 'accepted',
      },
    });

  const answer = await sync('2026-02-30T08:30:00+07:00');
  t.equal(answer.status, 400);
  t.equal(answer.body.code, 'VALIDATION_FAILED');
  const errors = answer.body.errors as { field: string; message: string }[];
  t.same(errors.map((e) => e.field), ['payload.receivedAt'], 'names the field');
  t.match(errors[0].message, /RFC 3339 .* offset, e\.g\. 2026-01-15T08:30:00\+07:00/, 'the form, by example');
  t.match(errors[0].message, /day the calendar has/, 'and that the day must exist');
  t.equal((await sync('2026-02-28T08:30:00+07:00')).status, 202, 'an existing day is taken');
});
