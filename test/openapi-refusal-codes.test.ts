// The OpenAPI document at /docs described every refusal of POST /v1/messages and POST
// /v1/requests as "problem+json (422)", "problem+json (400)", …: a one-stop-shop vendor meeting
// 422 DOSSIER_RULES_VIOLATED, 422 UNKNOWN_MEMBER or 400 REQUEST_REPLY_TYPE found none of those
// codes in the document its client is generated from, though `code` is what that client branches
// on. Each status now names the codes it carries there. The refusals a vendor really meets are
// driven here, and each answer's code must be named under its status for its operation.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';
import { ERROR_CODES } from '../services/platform/error-codes.js';

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

// The same for every other operation an agency system calls: GET /v1/inbox/{id}, its ack, GET
// /v1/documents, GET /v1/attachments/{sha256}, GET /v1/messages/{id}, the directory said only
// "problem+json (404)", "problem+json (401)", and the 400 and 401 every operation shares named no
// code at all, so a client generated from the document could not tell INBOX_ITEM_NOT_FOUND from
// a route that does not exist. Every problem answer of the gateway's document names its codes,
// each one the registry gives that status, and the refusals an agency system meets are named
// under their status for their operation.
t.test('every problem answer of the gateway names its codes, and the codes met are among them', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-refusal-codes-all', runner: false });
  type Doc = { paths: Record<string, Record<string, { responses: Record<string, { description?: string; content?: Record<string, unknown> }> }>> };
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as Doc;
  const named = (description: string) => Object.keys(ERROR_CODES).filter((code) => new RegExp(`\\b${code}\\b`).test(description));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, answer] of Object.entries(op.responses ?? {})) {
        if (!answer.content?.['application/problem+json']) continue;
        const codes = named(answer.description ?? '');
        t.ok(codes.length > 0, `${method.toUpperCase()} ${path} ${status} names its codes (${answer.description?.slice(0, 80)})`);
        for (const code of codes) t.ok((ERROR_CODES[code as keyof typeof ERROR_CODES].status as readonly number[]).includes(Number(status)), `${method.toUpperCase()} ${path} ${status}: ${code} is a ${status}`);
      }
    }
  }

  const agency = await bus.client('vp-ubnd-qlvb').accessToken();
  const operator = await bus.client('lgsp-operator').accessToken();
  const unknownId = '01a24316-cd60-729d-a542-03fad4f75636';
  const call = async (method: string, path: string, url: string, headers: Record<string, string>, body?: string) => {
    const response = await fetch(`${bus.gateway.url}${url}`, { method, headers, body });
    return { method, path, status: response.status, code: ((await response.json()) as { code?: string }).code };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const answers = [
    await call('GET', '/v1/messages/{id}', `/v1/messages/${unknownId}`, bearer(agency)),
    await call('GET', '/v1/messages/{id}', `/v1/messages/${unknownId}`, {}),
    await call('GET', '/v1/messages/{id}', `/v1/messages/${unknownId}`, bearer('not.a.token')),
    await call('GET', '/v1/messages/{id}', `/v1/messages/${unknownId}?since=1`, bearer(agency)),
    await call('GET', '/v1/messages/{id}', `/v1/messages/%FF`, bearer(agency)),
    await call('GET', '/v1/inbox', '/v1/inbox?limit=0', bearer(agency)),
    await call('GET', '/v1/inbox', '/v1/inbox', bearer(operator)),
    await call('GET', '/v1/inbox', '/v1/inbox', { authorization: 'Bearer ' }),
    await call('GET', '/v1/inbox/{id}', `/v1/inbox/${unknownId}`, bearer(agency)),
    await call('POST', '/v1/inbox/{id}/ack', `/v1/inbox/${unknownId}/ack`, bearer(agency)),
    await call('POST', '/v1/inbox/{id}/ack', `/v1/inbox/${unknownId}/ack`, { ...bearer(agency), 'content-type': 'application/json' }, '{"x":'),
    await call('GET', '/v1/documents/{documentId}', `/v1/documents/${encodeURIComponent('000.00.15.H49,2026/01/02,1/CV')}`, bearer(agency)),
    await call('GET', '/v1/documents', '/v1/documents', bearer(agency)),
    await call('GET', '/v1/attachments/{sha256}', `/v1/attachments/${'0'.repeat(64)}`, bearer(agency)),
    await call('GET', '/v1/attachments/{sha256}', `/v1/attachments/${'0'.repeat(64)}`, bearer(operator)),
    await call('POST', '/v1/attachments', '/v1/attachments', { ...bearer(agency), 'content-type': 'application/octet-stream' }, ''),
    await call('GET', '/v1/schemas/{type}', '/v1/schemas/no.such-type', {}),
    await call('GET', '/v1/services', '/v1/services', {}),
    await call('GET', '/v1/members', '/v1/members', bearer('not.a.token')),
    await call('GET', '/.well-known/jwks.json', '/.well-known/jwks.json?purpose=nothing', {}),
    await call('POST', '/v1/token', '/v1/token', { 'content-type': 'text/plain' }, 'grant_type=client_credentials'),
  ];
  const met = answers.map((a) => `${a.path} ${a.status} ${a.code}`);
  for (const expected of ['/v1/inbox/{id} 404 INBOX_ITEM_NOT_FOUND', '/v1/documents/{documentId} 404 DOCUMENT_NOT_FOUND', '/v1/attachments/{sha256} 404 ATTACHMENT_NOT_FOUND', '/v1/messages/{id} 404 MESSAGE_NOT_FOUND', '/v1/inbox 403 ROLE_REQUIRED', '/v1/messages/{id} 401 INVALID_TOKEN', '/v1/token 415 UNSUPPORTED_MEDIA_TYPE']) {
    t.ok(met.includes(expected), `met ${expected} (${met.join('; ')})`);
  }
  for (const a of answers) {
    const description = doc.paths[a.path][a.method.toLowerCase()].responses[String(a.status)]?.description ?? '';
    t.ok(named(description).includes(a.code!), `${a.method} ${a.path} ${a.status} ${a.code} is named in the document (${description.slice(0, 80)})`);
  }
});
