// A value outside a schema's enum was refused with Ajv's "must be equal to one of the allowed
// values", which tells an agency system that `"kind": "person"` is wrong and not what is right.
// The refusal names the values the field takes (the dossier's applicant kind and status, a query
// parameter's enum), in `errors[].message` and in `detail`; a format (a date-time without its
// offset) is explained with an example.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a value outside an enum is refused with the values the field takes', async (t) => {
  const bus = await startTestBus(t, { name: 'validation-allowed', runner: false });
  const client = bus.client('so-tp-motcua');
  const sync = await client.send({
    type: 'dossier.sync',
    to: { member: '000.00.00.G22', service: 'dvcqg-dossier' },
    payload: {
      dossierCode: '000.00.15.H49-260115-0009',
      procedureCode: '1.001234',
      sectorCode: 'LLTP',
      applicant: { name: 'Nguyễn Văn An', kind: 'person' },
      receivedAt: '2026-01-15 08:30:00',
      dueAt: '2026-01-29T17:00:00+07:00',
      status: 'accepted',
    },
  });
  t.equal(sync.status, 400);
  t.equal(sync.body.code, 'VALIDATION_FAILED');
  const kind = (sync.body.errors as { field: string; message: string }[]).find((e) => e.field === 'payload.applicant.kind');
  t.equal(kind?.message, 'must be one of "citizen", "organization"', 'the applicant kinds are named');
  t.match(sync.body.detail, /payload\.applicant\.kind must be one of "citizen", "organization"/, 'in the detail too');
  const received = (sync.body.errors as { field: string; message: string }[]).find((e) => e.field === 'payload.receivedAt');
  t.match(received?.message, /RFC 3339 .* offset, e\.g\. 2026-01-15T08:30:00\+07:00/, 'a date-time without its offset: what is taken, by example');

  // The route's own schemas alike: the JWKS purposes.
  const jwks = await fetch(`${bus.gateway.url}/.well-known/jwks.json?purpose=signing`);
  const body = (await jwks.json()) as { detail: string };
  t.equal(jwks.status, 400);
  t.match(body.detail, /^Invalid query string: purpose must be one of "token", "record", "delivery", "checkpoint"$/, `the purposes are named, the parameter once (${body.detail})`);
});
