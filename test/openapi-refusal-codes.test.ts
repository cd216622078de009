// The OpenAPI document at /docs described every refusal of POST /v1/messages and POST
// /v1/requests as "problem+json (422)", "problem+json (400)", …: a one-stop-shop vendor meeting
// 422 DOSSIER_RULES_VIOLATED, 422 UNKNOWN_MEMBER or 400 REQUEST_REPLY_TYPE found none of those
// codes in the document its client is generated from, though `code` is what that client branches
// on. Each status now names the codes it carries there. The refusals a vendor really meets are
// driven here, and each answer's code must be named under its status for its operation.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

type OpenApi = { paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };

t.test('the refusals of POST /v1/messages and POST /v1/requests are named by code in the OpenAPI document', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-refusal-codes', runner: false });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as OpenApi;
  const motcua = bus.client('so-tp-motcua');
  const token = await motcua.accessToken();
  const dossierTo = { member: '000.00.00.G22', service: 'dvcqg-dossier' };
  const lookupTo = { member: '000.00.00.G22', service: 'dvcqg-lookup' };
  const sync = (payload: Record<string, unknown>) => ({
    type: 'dossier.sync',
    to: dossierTo,
    correlationId: '000.00.15.H49-260115-0040',
    payload: {
      dossierCode: '000.00.15.H49-260115-0040',
      procedureCode: '1.001234',
      sectorCode: 'LLTP',
      applicant: { name: 'Nguyễn Văn An', kind: 'citizen' },
      receivedAt: '2026-01-15T08:30:00+07:00',
      dueAt: '2026-01-29T17:00:00+07:00',
      status: 'accepted',
      ...payload,
    },
  });
  const post = async (path: string, body: string, headers: Record<string, string> = {}, bearer = token) => {
    const response = await fetch(`${bus.gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers }, body });
    return { path, status: response.status, code: ((await response.json()) as { code?: string }).code };
  };

  const answers = [
    await post('/v1/messages', '{"type":'),
    await post('/v1/messages', JSON.stringify(sync({ applicant: { name: 'A', kind: 'person' } }))),
    await post('/v1/messages', JSON.stringify({ ...sync({}), type: 'dossier.synk' })),
    await post('/v1/messages', JSON.stringify({ type: 'dossier.lookup', to: lookupTo, payload: { dossierCode: 'X' } })),
    await post('/v1/messages', JSON.stringify(sync({ dueAt: '2026-01-10T17:00:00+07:00' }))),
    await post('/v1/messages', JSON.stringify({ ...sync({}), to: { member: '000.00.99.G22' } })),
    await post('/v1/messages', JSON.stringify({ ...sync({}), to: { member: '000.00.00.G22', service: 'dvcqg-lookup' } })),
    await post('/v1/messages', JSON.stringify(sync({})), { 'idempotency-key': 'openapi-codes-1' }),
    await post('/v1/messages', JSON.stringify(sync({ summary: 'other' })), { 'idempotency-key': 'openapi-codes-1' }),
    await post('/v1/messages', JSON.stringify(sync({})), {}, await bus.client('so-tp-qlvb').accessToken()),
    await post('/v1/messages', JSON.stringify(sync({})), {}, 'not.a.token'),
    await post('/v1/requests', JSON.stringify({ type: 'dossier.lookup', to: [lookupTo], payload: { dossierCode: 'X' } })),
    await post('/v1/requests', JSON.stringify(sync({}))),
    await post('/v1/requests', JSON.stringify({ type: 'dossier.lookup', to: lookupTo, payload: { dossierCode: '' } })),
    await post('/v1/requests', JSON.stringify({ type: 'dossier.lookup', to: dossierTo, payload: { dossierCode: 'X' } })),
    await post('/v1/requests', JSON.stringify({ type: 'dossier.lookup', to: lookupTo, payload: { dossierCode: 'X' } }), {}, await bus.client('so-tp-qlvb').accessToken()),
  ].filter((a) => a.status >= 400);

  const met = answers.map((a) => `${a.path} ${a.status} ${a.code}`);
  for (const expected of ['/v1/messages 422 DOSSIER_RULES_VIOLATED', '/v1/messages 400 REQUEST_REPLY_TYPE', '/v1/messages 409 IDEMPOTENCY_KEY_REUSED', '/v1/requests 400 NOT_A_REQUEST_TYPE', '/v1/requests 403 SERVICE_FORBIDDEN']) {
    t.ok(met.includes(expected), `met ${expected}`);
  }
  for (const a of answers) {
    const description = doc.paths[a.path].post.responses[String(a.status)]?.description ?? '';
    t.ok(description.includes(a.code!), `${a.path} ${a.status} ${a.code} is named in the document (${description.slice(0, 80)})`);
  }
});
