// The audit service's query parameters as its OpenAPI document gives them, against what it takes.
// Schemathesis, generating requests from the document, sent `to=Ñì5ã` — a string the document
// took (any text up to 40 characters) — and the service refused it 400: the time bounds' form was
// told only in prose, so a client generated from the document could not check it. Each value is
// judged twice, by the documented schema (Ajv 2020, as OpenAPI 3.1 reads it) and by the service
// (200 taken, 400 refused), and the verdicts must agree. A date of the right form that is not on
// the calendar (2026-02-30) is refused by the service alone: no JSON Schema keyword says that.
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestBus } from './helpers/test-bus.js';
import { startAuditService } from '../services/audit/audit-service.js';

type Parameter = { name: string; in: string; schema: Record<string, unknown> };
type OpenApi = { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };

t.test('the documented from and to of GET /v1/audit/events take what the service takes', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-audit-parameters', runner: false });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  const doc = (await (await fetch(`${audit.url}/openapi.json`)).json()) as OpenApi;
  const token = await bus.client('lgsp-operator').accessToken();
  const ajv = new Ajv2020({ strict: false });
  const values = [
    '2026-12-03', '2026-12-03T08:30:00+07:00', '2026-12-03T08:30+07:00', '2026-12-03T01:30:00Z', '2026-12-03T01:30:00.123456789Z',
    'Ñì5ã', 'yesterday', '2026-12-03T08:30:00', '03/12/2026', '2026-12-3', '2026-12-03 08:30:00+07:00', '2026-12-03T08:30:00+0700', ' 2026-12-03', '20261203',
  ];
  for (const name of ['from', 'to']) {
    const parameter = doc.paths['/v1/audit/events'].get.parameters?.find((p) => p.name === name && p.in === 'query');
    if (!t.ok(parameter, `${name} is documented`)) continue;
    const valid = ajv.compile(parameter!.schema);
    for (const value of values) {
      const response = await fetch(`${audit.url}/v1/audit/events?limit=1&${name}=${encodeURIComponent(value)}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await response.json()) as { detail?: string };
      t.ok(response.status === 200 || response.status === 400, `${name}=${value}: ${response.status}`);
      t.equal(valid(value), response.status === 200, `${name}=${JSON.stringify(value)}: the document ${valid(value) ? 'takes' : 'refuses'} it, the service answers ${response.status} ${body.detail ?? ''}`);
    }
  }
  // A refusal by the documented form says what to send, as before.
  const refused = await fetch(`${audit.url}/v1/audit/events?from=yesterday`, { headers: { authorization: `Bearer ${token}` } });
  t.match(await refused.json(), { status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'querystring.from', message: /^must be a date \(2026-12-03\) or a time with its zone/ }] });
});
