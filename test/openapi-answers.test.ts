// The OpenAPI documents against what the services really answer: a document-exchange bus
// (gateway, runner with its management API, QLVB simulator) and an audit service on the real broker and PostgreSQL are
// driven through every operation that has a success answer — after documents, statuses, inbox
// items, attachments and notices went through, so lists are not empty and optional members show
// up — and every success answer's body is validated against the schema the service's own served
// document gives for that operation, status and media type (OpenAPI 3.1: JSON Schema 2020-12, so
// Ajv2020 reads the schemas as they are, components included). A member the schema does not
// allow, a missing required one, a wrong type or format fails; so does an operation left
// unexercised, a success answer documented with an empty schema, or a media type the document
// does not list.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { openApiSchemas } from './helpers/openapi-schemas.js';
import { eventually } from './helpers/test-bus.js';
import { startEdocBus } from './helpers/edoc-bus.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { createClientAssertion, type BusClient } from '../services/platform/bus-client.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', name));

/** One answer as it came over the wire, with the operation it answers. */
interface Answer {
  service: 'gateway' | 'audit' | 'runner';
  operation: string;
  url: string;
  status: number;
  mediaType: string;
  text: string;
  /** The answer's headers a client reads beside the body (LGSP-*, Repr-Digest, Location, the rate limit's), lower case. */
  headers: string[];
  /** Every header of the answer, lower case. */
  sent: string[];
}

/** Response headers that carry something a client acts on: each must be in the operation's documented answer. */
const CLIENT_HEADERS = /^(lgsp-.*|repr-digest|location|x-ratelimit-.*|retry-after)$/;

type OpenApi = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { required?: boolean }>; content?: Record<string, { schema?: Record<string, unknown> }> }> }>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Operations this file does not drive, and where their answers are exercised instead. */
const NOT_EXERCISED: Record<string, string> = {
  'POST /v1/requests': 'request/reply needs the one-stop-shop connector and the portal mock: test/dossier-requests.test.ts',
};

/** Every operation of a document that has a 2xx answer, as `GET /v1/inbox/{id}`. */
function successOperations(doc: OpenApi): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([method, op]) => METHODS.includes(method) && Object.keys(op.responses).some((s) => /^2/.test(s))).map(([method]) => `${method.toUpperCase()} ${path}`),
  );
}

/** A JSON pointer token (RFC 6901). */
const token = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

t.test('every success answer matches the schema its service documents', async (t) => {
  const bus = await startEdocBus(t, { name: 'openapi-answers', config: { attachmentMaxBytes: 4 * 1024 * 1024, checkpointIntervalMs: 500 } });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  const bases = { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner.url };

  const answers: Answer[] = [];
  /** Calls an operation and keeps its answer; the parsed JSON body (or the text) is returned. */
  const call = async (
    service: Answer['service'],
    operation: string,
    path: string,
    opts: { client?: BusClient; body?: BodyInit; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Headers; body: any }> => {
    const [method] = operation.split(' ');
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.client) headers.authorization = `Bearer ${await opts.client.accessToken()}`;
    if (opts.contentType) headers['content-type'] = opts.contentType;
    const response = await fetch(`${bases[service]}${path}`, { method, headers, body: opts.body });
    const text = await response.text();
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    answers.push({ service, operation, url: path, status: response.status, mediaType, text, headers: [...response.headers.keys()].filter((h) => CLIENT_HEADERS.test(h)), sent: [...response.headers.keys()] });
    let body: unknown = text;
    if (/json$/.test(mediaType)) body = JSON.parse(text);
    return { status: response.status, headers: response.headers, body };
  };
  const json = (value: unknown) => ({ body: JSON.stringify(value), contentType: 'application/json' });

  const office = bus.client('vp-ubnd-qlvb'); // pull, JSON: the sender of the fixtures' documents
  const department = bus.client('so-tttt-qlvb'); // sends the office a document with an uploaded attachment
  const commune = bus.client('xa-hoaphuoc-qlvb'); // a recipient of the fixtures' documents
  const operator = bus.client('lgsp-operator');
  const fixtureDocumentId = (decodeEdxml(fixture('document-new.xml')).payload as { header: { documentId: string } }).header.documentId;

  // --- traffic: a document with attachments to a push and a pull recipient (edXML) and a revoke
  // of it, whose status packets come back to the office's inbox; a JSON notice; a document with
  // an uploaded attachment into the office's inbox; a token.
  const sent = await call('gateway', 'POST /v1/messages', '/v1/messages', { client: office, body: new Uint8Array(fixture('document-new.xml')), contentType: 'application/xml' });
  t.equal(sent.status, 202, JSON.stringify(sent.body));
  t.equal(sent.body.recipients?.length, 2, 'a fan-out answer names its recipients');
  const notice = await call('gateway', 'POST /v1/messages', '/v1/messages', {
    client: office,
    ...json({ type: 'notice.send', to: { member: '000.00.12.H49', service: 'notice' }, payload: { subject: 'Lịch họp giao ban', body: 'Kính gửi các đơn vị: họp giao ban 8 giờ sáng thứ Hai.', priority: 'normal', reference: '12/TB-UBND' } }),
  });
  t.equal(notice.status, 202, JSON.stringify(notice.body));
  const bytes = Buffer.from('%PDF-1.4\n% Báo cáo tiến độ chuyển đổi số tháng 11\n%%EOF\n');
  const upload = await call('gateway', 'POST /v1/attachments', '/v1/attachments', { client: department, body: new Uint8Array(bytes), contentType: 'application/pdf' });
  t.equal(upload.status, 201, JSON.stringify(upload.body));
  const report = await call('gateway', 'POST /v1/messages', '/v1/messages', {
    client: department,
    ...json({
      type: 'edoc.send',
      to: { member: '000.00.00.H49' },
      payload: {
        header: {
          from: { organId: '000.00.12.H49', organName: 'Sở Thông tin và Truyền thông' },
          to: [{ organId: '000.00.00.H49', organName: 'Văn phòng Ủy ban nhân dân tỉnh' }],
          documentId: '000.00.12.H49,2026/12/01,45/BC-STTTT',
          subject: 'Báo cáo tiến độ chuyển đổi số tháng 11',
        },
        attachments: [{ contentId: 'cid:bc-45.pdf', name: '45-BC-STTTT.pdf', contentType: 'application/pdf', sha256: upload.body.sha256, size: upload.body.size }],
      },
    }),
  });
  t.equal(report.status, 202, JSON.stringify(report.body));
  // The push recipient answers 03 then 06; then the revoke, which it accepts (15).
  await eventually(async () => (await office.request('GET', `/v1/documents/${encodeURIComponent(fixtureDocumentId)}`)).body.recipients?.some((r: any) => r.status === '06'), 60_000);
  const revoke = await call('gateway', 'POST /v1/messages', '/v1/messages', { client: office, body: new Uint8Array(fixture('document-revoke.xml')), contentType: 'application/xml' });
  t.equal(revoke.status, 202, JSON.stringify(revoke.body));
  await eventually(async () => (await office.request('GET', '/v1/inbox?type=edoc.status&limit=100')).body.items.length >= 3, 60_000);
  await eventually(async () => (await office.request('GET', '/v1/inbox?type=edoc.send')).body.items.length >= 1, 60_000);
  const creds = bus.clients.get('vp-ubnd-qlvb')!;
  const issued = await call('gateway', 'POST /v1/token', '/v1/token', {
    body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await createClientAssertion(creds, bus.config.issuer) }).toString(),
    contentType: 'application/x-www-form-urlencoded',
  });
  t.equal(issued.status, 200);

  await t.test('the gateway: directory, keys, metadata, schemas, health', async (t) => {
    t.equal((await call('gateway', 'GET /v1/services', '/v1/services', { client: office })).status, 200);
    t.equal((await call('gateway', 'GET /v1/services', '/v1/services', { client: operator })).status, 200, 'a client with no service: an empty list');
    t.equal((await call('gateway', 'GET /v1/members', '/v1/members', { client: office })).status, 200);
    const index = await call('gateway', 'GET /v1/schemas', '/v1/schemas');
    t.equal(index.status, 200);
    for (const type of index.body.types as { schema: string; replySchema?: string }[]) {
      t.equal((await call('gateway', 'GET /v1/schemas/{type}', type.schema)).status, 200);
      if (type.replySchema) t.equal((await call('gateway', 'GET /v1/schemas/{type}', type.replySchema)).status, 200);
    }
    t.equal((await call('gateway', 'GET /.well-known/jwks.json', '/.well-known/jwks.json')).status, 200);
    t.equal((await call('gateway', 'GET /.well-known/jwks.json', '/.well-known/jwks.json?purpose=delivery')).status, 200);
    t.equal((await call('gateway', 'GET /.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server')).status, 200);
    t.equal((await call('gateway', 'GET /healthz', '/healthz')).status, 200);
    t.equal((await call('gateway', 'GET /readyz', '/readyz')).status, 200);
  });

  await t.test('the gateway: messages, inbox, documents, attachments', async (t) => {
    for (const id of [sent.body.id, notice.body.id, report.body.id]) t.equal((await call('gateway', 'GET /v1/messages/{id}', `/v1/messages/${id}`, { client: operator })).status, 200);
    t.equal((await call('gateway', 'GET /v1/messages/{id}', `/v1/messages/${sent.body.id}`, { client: office })).status, 200);
    // Every page shape: a full page with a cursor, the rest, a family filter, a type filter.
    const page = await call('gateway', 'GET /v1/inbox', '/v1/inbox?limit=1', { client: office });
    t.equal(page.status, 200);
    t.type(page.body.next, 'number', 'a full page names the next cursor');
    const rest = await call('gateway', 'GET /v1/inbox', `/v1/inbox?after=${page.body.next}&limit=100`, { client: office });
    t.equal(rest.status, 200);
    t.equal(rest.body.next, null, 'the last page has no cursor');
    t.equal((await call('gateway', 'GET /v1/inbox', '/v1/inbox?type=edoc.*', { client: office })).status, 200);
    const documents = await call('gateway', 'GET /v1/inbox', '/v1/inbox?type=edoc.send', { client: office });
    const withAttachment = documents.body.items.find((i: any) => i.attachments?.length);
    t.ok(withAttachment, 'the office holds a document with its attachment');
    const status = (await office.request('GET', '/v1/inbox?type=edoc.status')).body.items[0];
    for (const item of [status, withAttachment]) {
      t.equal((await call('gateway', 'GET /v1/inbox/{id}', `/v1/inbox/${item.id}`, { client: office })).status, 200);
      t.equal((await call('gateway', 'GET /v1/inbox/{id}', `/v1/inbox/${item.id}?format=edxml`, { client: office })).status, 200);
    }
    t.equal((await call('gateway', 'GET /v1/attachments/{sha256}', withAttachment.attachments[0].href, { client: office })).status, 200);
    t.equal((await call('gateway', 'POST /v1/inbox/{id}/ack', `/v1/inbox/${status.id}/ack`, { client: office })).status, 200);
    // A document as its sender, a recipient and an operator see it (subject and descriptions differ).
    for (const client of [office, commune, operator]) {
      t.equal((await call('gateway', 'GET /v1/documents/{documentId}', `/v1/documents/${encodeURIComponent(fixtureDocumentId)}`, { client })).status, 200);
      t.equal((await call('gateway', 'GET /v1/documents', `/v1/documents?documentId=${encodeURIComponent(fixtureDocumentId)}`, { client })).status, 200);
    }
    t.equal((await call('gateway', 'GET /v1/documents', `/v1/documents?documentId=${encodeURIComponent('000.00.12.H49,2026/12/01,45/BC-STTTT')}`, { client: office })).status, 200);
  });

  await t.test('the audit service', async (t) => {
    await eventually(async () => (await audit.store.count()) > 20, 30_000);
    t.equal((await call('audit', 'GET /v1/audit/events', '/v1/audit/events', { client: operator })).status, 200);
    const page = await call('audit', 'GET /v1/audit/events', '/v1/audit/events?limit=2', { client: operator });
    t.equal(page.status, 200);
    t.equal((await call('audit', 'GET /v1/audit/events', `/v1/audit/events?limit=5&before=${page.body.nextBefore}`, { client: operator })).status, 200);
    t.equal((await call('audit', 'GET /v1/audit/events', `/v1/audit/events?messageId=${sent.body.id}`, { client: operator })).status, 200);
    await eventually(async () => await audit.store.lastCheckpoint(), 30_000);
    t.equal((await call('audit', 'GET /v1/audit/integrity', '/v1/audit/integrity', { client: operator })).status, 200);
    t.equal((await call('audit', 'GET /healthz', '/healthz')).status, 200);
    t.equal((await call('audit', 'GET /readyz', '/readyz')).status, 200);
  });

  await t.test('the runner: connectors, their status, and the operator actions', async (t) => {
    const connector = '/v1/connectors/document-management';
    const names = await call('runner', 'GET /v1/connectors', '/v1/connectors', { client: operator });
    t.same(names.body, ['document-management']);
    t.equal((await call('runner', 'GET /v1/connectors/{name}', connector, { client: operator })).status, 200);
    t.equal((await call('runner', 'GET /v1/connectors/{name}/status', `${connector}/status`, { client: operator })).status, 200);
    t.equal((await call('runner', 'PUT /v1/connectors/{name}/pause', `${connector}/pause`, { client: operator })).status, 202);
    t.equal((await call('runner', 'GET /v1/connectors/{name}/status', `${connector}/status`, { client: operator })).body.connector.state, 'PAUSED');
    t.equal((await call('runner', 'PUT /v1/connectors/{name}/resume', `${connector}/resume`, { client: operator })).status, 202);
    const restarted = await call('runner', 'POST /v1/connectors/{name}/restart', `${connector}/restart`, { client: operator });
    t.equal(restarted.status, 202);
    t.equal(restarted.body.connector.state, 'RUNNING');
    t.equal((await call('runner', 'GET /healthz', '/healthz')).status, 200);
    t.equal((await call('runner', 'GET /readyz', '/readyz')).status, 200);
  });

  // --- the documents as served, and every answer against them
  const documents = {
    gateway: (await (await fetch(`${bases.gateway}/docs/json`)).json()) as OpenApi,
    audit: (await (await fetch(`${bases.audit}/openapi.json`)).json()) as OpenApi,
    runner: (await (await fetch(`${bases.runner}/openapi.json`)).json()) as OpenApi,
  };
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (service: Answer['service'], operation: string, status: number, mediaType: string) => {
    const key = `${service} ${operation} ${status} ${mediaType}`;
    let validate = validators.get(key);
    if (!validate) {
      const [method, path] = operation.split(' ');
      validate = ajvs[service].getSchema(`urn:lgsp:openapi:${service}#/paths/${token(path)}/${method.toLowerCase()}/responses/${status}/content/${token(mediaType)}/schema`)!;
      validators.set(key, validate);
    }
    return validate;
  };
  const ajvs = {} as Record<Answer['service'], Ajv2020>;
  for (const service of ['gateway', 'audit', 'runner'] as const) {
    const doc = documents[service];
    // OpenAPI 3.1: its schemas are JSON Schema 2020-12 (no `nullable`: null is a type), read as
    // they are, strictly (an unknown keyword in a schema is an error), with formats checked.
    t.match(doc.openapi, /^3\.1\./, `${service}: OpenAPI 3.1`);
    ajvs[service] = openApiSchemas(doc, service);
  }

  await t.test('every operation with a success answer was exercised, and documents a schema for it', async (t) => {
    for (const service of ['gateway', 'audit', 'runner'] as const) {
      const answered = new Set(answers.filter((a) => a.service === service && a.status < 300).map((a) => a.operation));
      for (const operation of successOperations(documents[service])) {
        if (NOT_EXERCISED[operation]) continue;
        t.ok(answered.has(operation), `${service}: ${operation} answered with success`);
        const [method, path] = operation.split(' ');
        for (const [status, answer] of Object.entries(documents[service].paths[path][method.toLowerCase()].responses)) {
          if (!/^2/.test(status)) continue;
          if (service === 'gateway') t.not((answer as { description?: string }).description, 'Default Response', `${service}: ${operation} ${status} says what it is, not Fastify's placeholder`);
          for (const [mediaType, media] of Object.entries(answer.content ?? {})) {
            t.ok(media.schema && Object.keys(media.schema).length > 0, `${service}: ${operation} ${status} ${mediaType} has a schema`);
            t.notOk(JSON.stringify(media.schema).includes('"nullable"'), `${service}: ${operation} ${status} ${mediaType}: null as a type, not OpenAPI 3.0's nullable`);
            // A generated client types a member not listed as required as optional (`id?: string`):
            // an agency's code then checks for members every answer has. The gateway's JSON answers
            // are objects whose members are known: each names those it always has.
            const schema = media.schema as { type?: string; required?: string[] } | undefined;
            if (service === 'gateway' && /json$/.test(mediaType) && schema?.type === 'object') {
              t.ok((schema.required ?? []).length > 0, `${service}: ${operation} ${status} ${mediaType} names the members it always has (required)`);
            }
          }
        }
      }
    }
  });

  // Linters (Redocly's security-defined) refuse a document where an operation's security is left
  // unsaid, and a reader cannot tell a public operation from a forgotten requirement.
  await t.test('every operation of every service says its security, public ones with []', async (t) => {
    for (const service of ['gateway', 'audit', 'runner'] as const) {
      for (const [path, item] of Object.entries(documents[service].paths)) {
        for (const [method, op] of Object.entries(item as Record<string, { security?: unknown[] }>)) {
          if (!METHODS.includes(method)) continue;
          t.ok(Array.isArray(op.security), `${service}: ${method.toUpperCase()} ${path} says its security`);
        }
      }
      t.same(documents[service].paths['/healthz']?.get && (documents[service].paths['/healthz'].get as { security?: unknown[] }).security, [], `${service}: /healthz is public`);
    }
  });

  // A 429 listed where no rate limit counts the operation sends a client generator's back-off
  // code after an answer that never comes (the runner's and the audit service's documents listed
  // one on every operation, and neither registers a limiter). A limiter marks every answer it
  // counts with X-RateLimit-Limit: an operation documents a 429 exactly when its answers carry it.
  await t.test('a 429 is documented only where a rate limit counts the operation', async (t) => {
    const counted = new Set(answers.filter((a) => a.sent.includes('x-ratelimit-limit')).map((a) => `${a.service}: ${a.operation}`));
    const exercised = new Set(answers.map((a) => `${a.service}: ${a.operation}`));
    const documented429 = { gateway: 0, audit: 0, runner: 0 };
    for (const service of ['gateway', 'audit', 'runner'] as const) {
      for (const [path, item] of Object.entries(documents[service].paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (!METHODS.includes(method)) continue;
          const what = `${service}: ${method.toUpperCase()} ${path}`;
          if ('429' in op.responses) documented429[service]++;
          if (exercised.has(what)) t.equal('429' in op.responses, counted.has(what), `${what}: ${counted.has(what) ? 'counted by a rate limit, documents its 429' : 'no rate limit counts it, documents no 429'}`);
        }
      }
    }
    t.same({ audit: documented429.audit, runner: documented429.runner }, { audit: 0, runner: 0 }, 'the runner and the audit service have no rate limit: no 429 in their documents');
    t.ok(documented429.gateway > 10, `the gateway's operations document the 429 of its limit (${documented429.gateway})`);
  });

  // An inbox item's LGSP-Signature is what its system verifies before storing it, a download's
  // Repr-Digest what it checks the bytes against: a generated client reads only documented headers.
  await t.test('every header a client reads beside the body is documented for its answer', async (t) => {
    const seen = new Set<string>();
    for (const answer of answers) {
      const [method, path] = answer.operation.split(' ');
      const documented = Object.keys(documents[answer.service].paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)]?.headers ?? {}).map((h) => h.toLowerCase());
      for (const header of answer.headers) {
        const what = `${answer.service}: ${answer.operation} ${answer.status} ${header}`;
        if (seen.has(what)) continue;
        seen.add(what);
        t.ok(documented.includes(header), `${what} is documented (${documented.join(', ') || 'none'})`);
      }
    }
    t.ok([...seen].some((s) => s.endsWith('lgsp-signature')), 'an inbox item\'s signature header was among them');
    t.ok([...seen].some((s) => s.endsWith('repr-digest')), 'and a download\'s digest');
    t.ok([...seen].some((s) => s.startsWith('gateway: ') && s.endsWith('x-ratelimit-remaining')), 'and the gateway\'s rate limit');
  });

  // A header documented `required: true` is one a generated client reads without checking for it
  // (Location of a 202 or 201, the rate limit's on the gateway): every answer must carry it.
  await t.test('every header documented as always sent comes with the answer', async (t) => {
    const seen = new Set<string>();
    for (const answer of answers) {
      const [method, path] = answer.operation.split(' ');
      const documented = documents[answer.service].paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)]?.headers ?? {};
      for (const [header, object] of Object.entries(documented)) {
        if (object.required !== true) continue;
        seen.add(`${answer.service}: ${answer.operation} ${answer.status} ${header}`);
        t.ok(answer.sent.includes(header.toLowerCase()), `${answer.service}: ${answer.operation} (${answer.url}) ${answer.status} sends ${header}`);
      }
    }
    for (const what of ['gateway: POST /v1/messages 202 Location', 'gateway: POST /v1/attachments 201 Location', 'gateway: POST /v1/token 200 x-ratelimit-limit']) {
      t.ok(seen.has(what), `${what} is documented as always sent, and was checked`);
    }
  });

  await t.test('every answer body validates against its documented schema', async (t) => {
    const closedChecked = new Set<string>();
    for (const answer of answers) {
      const what = `${answer.service}: ${answer.operation} (${answer.url}) ${answer.status} ${answer.mediaType}`;
      t.ok(answer.status >= 200 && answer.status < 300, `${what}: a success answer`);
      const [method, path] = answer.operation.split(' ');
      const documented = documents[answer.service].paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)];
      const content = documented?.content ?? {};
      if (documented && !documented.content) {
        // An answer documented without a body (202 of a pause) must come without one.
        t.equal(answer.text, '', `${what}: no body, as documented`);
        continue;
      }
      if (!t.ok(content[answer.mediaType], `${what}: the media type is documented (${Object.keys(content).join(', ')})`)) continue;
      const validate = validatorFor(answer.service, answer.operation, answer.status, answer.mediaType);
      const json = /[/+]json$/.test(answer.mediaType);
      const body: unknown = json ? JSON.parse(answer.text) : answer.text;
      t.ok(validate(body), `${what}: matches its schema`, { errors: validate.errors, body: answer.text.slice(0, 2000) });
      // The check bites: where the answer's shape is fixed, a member too many or a required one
      // missing is refused (checked once per operation on its real body).
      const schema = content[answer.mediaType].schema as { additionalProperties?: unknown; required?: string[] };
      if (json && schema.additionalProperties === false && !closedChecked.has(answer.operation)) {
        closedChecked.add(answer.operation);
        t.notOk(validate({ ...(body as object), unexpectedMember: true }), `${what}: a member the schema does not list is refused`);
        for (const member of schema.required ?? []) {
          const { [member]: _dropped, ...rest } = body as Record<string, unknown>;
          t.notOk(validate(rest), `${what}: without ${member} it is refused`);
        }
      }
    }
  });
});
