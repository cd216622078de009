// The parameters the OpenAPI document gives against what the gateway takes. A client generated
// from /openapi.json (openapi-typescript, openapi-generator, NSwag) types and checks its arguments
// by the parameter schemas: a rule only told in prose lets it send what the gateway refuses, and a
// number typed as a string makes it format the number itself. For each parameter, values a client
// could pass are judged twice — by the documented schema (Ajv 2020, as OpenAPI 3.1 reads it) and by
// the gateway (2xx taken, 400 refused) — and the two verdicts must agree (but for an inbox cursor
// past every item numbered, which the schema takes and the description says is refused).
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestBus } from './helpers/test-bus.js';

type Parameter = { name: string; in: string; schema: Record<string, unknown> };
type OpenApi = { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };

t.test('the documented parameter schemas take what the gateway takes and refuse what it refuses', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-parameters', runner: false });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as OpenApi;
  const ajv = new Ajv2020({ strict: false });
  const documented = (path: string, method: string, name: string) => {
    const parameter = doc.paths[path][method].parameters?.find((p) => p.name === name);
    if (!parameter) throw new Error(`${method.toUpperCase()} ${path} documents no parameter ${name}`);
    return ajv.compile(parameter.schema);
  };

  await t.test('Idempotency-Key on POST /v1/messages', async (t) => {
    const valid = documented('/v1/messages', 'post', 'idempotency-key');
    const sender = bus.client('so-tttt-qlvb');
    const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp', body: 'Nội dung' } };
    const keys = ['k', `key-${Date.now()}`, '~'.repeat(200), '!#$%&*+-./:;<=>?@[]^_`{|}~', '', ' ', 'has space', 'tab\tinside', 'x'.repeat(201), 'café'];
    for (const [i, key] of keys.entries()) {
      // Each valid key with a body of its own: a key is not reused with another body here.
      const r = await sender.request('POST', '/v1/messages', { ...notice, correlationId: `openapi-parameters-${i}` }, { 'idempotency-key': key });
      const label = JSON.stringify(key.length > 20 ? `${key.slice(0, 10)}…(${key.length})` : key);
      t.ok(r.status === 202 || r.status === 400, `${label}: ${r.status}`);
      t.equal(valid(key), r.status === 202, `${label}: the document ${valid(key) ? 'takes' : 'refuses'} it, the gateway answers ${r.status} ${r.body.code ?? ''}`);
      if (r.status === 400) t.same(r.body.errors, [{ field: 'Idempotency-Key', message: 'invalid' }], `${label}: the refusal names the header`);
    }
  });

  await t.test('documentId in the path of GET /v1/documents/{documentId}, as in the query of GET /v1/documents', async (t) => {
    const reader = bus.client('so-tp-qlvb');
    const prefix = '000.00.15.H49,2026/03/05,';
    // Lengths around the router's default limit (100) and the documented one (200), in ASCII and in
    // Vietnamese (percent-encoded three times longer on the wire).
    const ids = [1, 99, 100, 101, 150, 200, 201].flatMap((length) => [(prefix + 'S'.repeat(200)).slice(0, length), 'Đ'.repeat(length)]);
    for (const [path, name, url] of [
      ['/v1/documents/{documentId}', 'documentId', (id: string) => `/v1/documents/${encodeURIComponent(id)}`],
      ['/v1/documents', 'documentId', (id: string) => `/v1/documents?documentId=${encodeURIComponent(id)}`],
    ] as const) {
      const valid = documented(path, 'get', name);
      for (const id of ids) {
        const r = await reader.request('GET', url(id));
        const label = `${path} ${id.length} characters (${id.slice(0, 3)}…)`;
        // A DocumentId no document has: 404 when the gateway takes it, 400 when it refuses it.
        t.ok(r.status === 404 || r.status === 400, `${label}: ${r.status} ${r.body.code}`);
        t.equal(valid(id), r.status === 404, `${label}: the document ${valid(id) ? 'takes' : 'refuses'} it, the gateway answers ${r.status} ${r.body.code}`);
      }
    }
  });

  await t.test('limit and after on GET /v1/inbox', async (t) => {
    const puller = bus.client('xa-hoaphuoc-qlvb');
    const cases: Record<string, unknown[]> = {
      limit: [1, 2, 50, 99, 100, 0, -1, 101, 999, 1000, 2.5],
      after: [0, 1, 42, 999_999_999_999_999, -1, 1_000_000_000_000_000, 1.5],
    };
    for (const [name, values] of Object.entries(cases)) {
      const valid = documented('/v1/inbox', 'get', name);
      t.match(doc.paths['/v1/inbox'].get.parameters?.find((p) => p.name === name)?.schema, { type: 'integer' }, `${name} is documented as a number, which it is`);
      for (const value of values) {
        // As a generated client sends a number in a query: its decimal text.
        const r = await puller.request('GET', `/v1/inbox?${name}=${String(value)}`);
        t.ok(r.status === 200 || r.status === 400, `${name}=${value}: ${r.status}`);
        // A cursor past every item the bus has numbered is taken by the schema and refused for
        // that (the parameter's description says so): an empty page would hide waiting items.
        const pastNewest = name === 'after' && r.status === 400 && r.body.code === 'BAD_REQUEST' && /past every inbox item/.test(String(r.body.detail));
        t.equal(valid(value), r.status === 200 || pastNewest, `${name}=${value}: the document ${valid(value) ? 'takes' : 'refuses'} it, the gateway answers ${r.status} ${r.body.detail ?? ''}`);
      }
    }
  });
});
