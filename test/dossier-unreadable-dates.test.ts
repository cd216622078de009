// A dossier date with an hour-only offset (`2026-01-15T08:30:00+07`, what an ISO 8601 formatter
// with a one-letter offset pattern writes) or a leap second passes the schema's date-time format
// (ajv-formats) but no JavaScript date reads it. It was refused as 422
// DOSSIER_RULES_VIOLATED "must be a date between 1990 and 2199" for a date in 2026, which sent
// vendors looking for a wrong year. It is a date in a form the bus does not take: 400
// VALIDATION_FAILED naming the field, with the same words as a date the schema refuses, and what
// to write instead. A date really out of range still gets its own message.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a dossier date no JavaScript date reads is a format error, not an out-of-range date', async (t) => {
  const bus = await startTestBus(t, { name: 'dossier-unreadable-dates', runner: false });
  const client = bus.client('so-tp-motcua');
  const sync = (receivedAt: string) =>
    client.send({
      type: 'dossier.sync',
      to: { member: '000.00.00.G22', service: 'dvcqg-dossier' },
      correlationId: '000.00.15.H49-260115-0007',
      payload: {
        dossierCode: '000.00.15.H49-260115-0007',
        procedureCode: '1.001234',
        sectorCode: 'LLTP',
        applicant: { name: 'Nguyễn Văn An', kind: 'citizen' },
        receivedAt,
        dueAt: '2026-01-29T17:00:00+07:00',
        status: 'accepted',
      },
    });

  for (const receivedAt of ['2026-01-15T08:30:00+07', '2026-01-15T23:59:60Z']) {
    const answer = await sync(receivedAt);
    t.equal(answer.status, 400, `${receivedAt}: 400`);
    t.equal(answer.body.code, 'VALIDATION_FAILED', `${receivedAt}: a format error`);
    const errors = answer.body.errors as { field: string; message: string }[];
    t.same(errors.map((e) => e.field), ['payload.receivedAt'], 'names the field, and only it');
    t.match(errors[0].message, /RFC 3339 .* offset, e\.g\. 2026-01-15T08:30:00\+07:00/, 'says what is taken, by example');
    t.match(errors[0].message, /\+07:00, not \+07/, 'and what an offset needs');
    t.notMatch(answer.body.detail, /1990/, 'no talk of a date range');
  }

  const progress = await client.send({
    type: 'dossier.progress',
    to: { member: '000.00.00.G22', service: 'dvcqg-dossier' },
    correlationId: '000.00.15.H49-260115-0007',
    payload: { dossierCode: '000.00.15.H49-260115-0007', previousStatus: 'accepted', status: 'processing', handledAt: '2026-01-16T09:15:00+07' },
  });
  t.equal(progress.status, 400, 'a progress date alike');
  t.same((progress.body.errors as { field: string }[]).map((e) => e.field), ['payload.handledAt']);

  const outOfRange = await sync('1989-12-31T08:30:00+07:00');
  t.equal(outOfRange.status, 422, 'a readable date out of range is still a dossier rule');
  t.match(outOfRange.body.detail, /payload\.receivedAt must be a date between 1990 and 2199/);

  const accepted = await sync('2026-01-15T08:30:00+07:00');
  t.equal(accepted.status, 202, 'the right form is accepted');
});
