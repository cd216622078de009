// The refusals the gateway and the audit service really give, against the statuses their served
// OpenAPI documents list for each operation. A client generated from a document (openapi-fetch,
// NSwag, openapi-generator) has a typed branch only for what is listed: an answer outside it is
// an "unexpected response" exception in the agency's code, not the problem+json the README
// promises. test/openapi-answers.test.ts checks the success answers' bodies; this file drives
// the refusals that need a state the happy path never reaches: PostgreSQL stopped (503
// STATE_UNAVAILABLE on every operation that reads it, NOT_READY from /readyz) and a caller without
// the role an operation needs (403 ROLE_REQUIRED). Each answer must be listed for its operation,
// as problem+json, and a 503 with the Retry-After the document promises (/readyz sent none),
// documented as always sent. Last, a request reaching the audit service while it stops (503
// SHUTTING_DOWN).
import t from 'tap';
import { connect } from 'node:net';
import { startLocalPostgres } from '../services/local-postgres/local-postgres.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { startTestBus } from './helpers/test-bus.js';
import { parseAnswer } from './helpers/raw-http.js';

type Responses = Record<string, { description?: string; content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
type OpenApi = { paths: Record<string, Record<string, { responses: Responses }>> };

interface Answer {
  operation: string;
  status: number;
  mediaType: string;
  retryAfter: string | null;
  code?: string;
}

t.test('every refusal an operation gives is one its OpenAPI document lists', async (t) => {
  const postgres = await startLocalPostgres();
  t.teardown(() => postgres.stop());
  const bus = await startTestBus(t, { name: 'openapi-refusals', databaseServer: postgres.url, runner: false });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  // Tokens first: issuing one needs the database (single-use assertions).
  const agency = await bus.client('vp-ubnd-qlvb').accessToken();
  const operator = await bus.client('lgsp-operator').accessToken();
  const documents = {
    gateway: (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as OpenApi,
    audit: (await (await fetch(`${audit.url}/openapi.json`)).json()) as OpenApi,
  };

  const answers: { service: keyof typeof documents; answer: Answer }[] = [];
  const call = async (service: keyof typeof documents, operation: string, path: string, token: string) => {
    const [method] = operation.split(' ');
    const base = service === 'gateway' ? bus.gateway.url : audit.url;
    const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    const code = mediaType === 'application/problem+json' ? (JSON.parse(text) as { code: string }).code : undefined;
    answers.push({ service, answer: { operation, status: response.status, mediaType, retryAfter: response.headers.get('retry-after'), code } });
  };

  // An agency system at the audit API: operators and observers only.
  await call('audit', 'GET /v1/audit/events', '/v1/audit/events?limit=1', agency);
  await call('audit', 'GET /v1/audit/integrity', '/v1/audit/integrity', agency);

  await postgres.stopServer();
  t.teardown(() => postgres.startServer().catch(() => undefined));
  const id = '01a24316-cd60-729d-a542-03fad4f75636';
  await Promise.all([
    call('gateway', 'GET /v1/messages/{id}', `/v1/messages/${id}`, agency),
    call('gateway', 'GET /v1/inbox', '/v1/inbox', agency),
    call('gateway', 'GET /v1/inbox/{id}', `/v1/inbox/${id}`, agency),
    call('gateway', 'POST /v1/inbox/{id}/ack', `/v1/inbox/${id}/ack`, agency),
    call('gateway', 'GET /v1/documents', '/v1/documents?documentId=x', agency),
    call('gateway', 'GET /v1/documents/{documentId}', '/v1/documents/x', agency),
    call('gateway', 'GET /v1/attachments/{sha256}', `/v1/attachments/${'0'.repeat(64)}`, agency),
    call('audit', 'GET /v1/audit/events', '/v1/audit/events?limit=1', operator),
    call('audit', 'GET /v1/audit/integrity', '/v1/audit/integrity', operator),
    call('gateway', 'GET /readyz', '/readyz', agency),
    call('audit', 'GET /readyz', '/readyz', agency),
  ]);

  const statuses = answers.map(({ answer }) => `${answer.operation} ${answer.status} ${answer.code}`);
  t.ok(answers.filter(({ answer }) => answer.status === 403).length === 2, `the audit API refuses an agency system (${statuses.slice(0, 2).join('; ')})`);
  t.ok(answers.slice(2).every(({ answer }) => answer.status === 503 && answer.code === (answer.operation === 'GET /readyz' ? 'NOT_READY' : 'STATE_UNAVAILABLE')), `PostgreSQL stopped: 503 STATE_UNAVAILABLE everywhere, NOT_READY from the probes (${statuses.slice(2).join('; ')})`);
  for (const { service, answer } of answers) {
    const [method, path] = answer.operation.split(' ');
    const documented = documents[service].paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)];
    t.ok(documented?.content?.['application/problem+json'], `${service} ${answer.operation}: its ${answer.status} ${answer.code} is documented as problem+json`);
    t.equal(answer.mediaType, 'application/problem+json', `${service} ${answer.operation}: answered as problem+json`);
    if (answer.status === 503) {
      t.ok(Number(answer.retryAfter) > 0, `${service} ${answer.operation}: the 503 carries Retry-After`);
      t.equal((documented?.headers?.['Retry-After'] as { required?: boolean } | undefined)?.required, true, `${service} ${answer.operation}: and its document says every 503 does`);
    }
  }

  // A request that arrives while a service stops (pipelined behind one whose body was still
  // coming when the stop began) had Fastify's own 503: plain JSON, no Retry-After, the one 503
  // of the bus without it. Now 503 SHUTTING_DOWN like the others, and listed for the operation.
  await postgres.startServer();
  const { host, port } = new URL(audit.url);
  const socket = connect(Number(port), '127.0.0.1');
  let exchange = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => (exchange += chunk));
  const closed = new Promise((resolve) => socket.on('close', resolve));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /v1/audit/nothing HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stopped = audit.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  socket.write(`}GET /v1/audit/integrity HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${operator}\r\n\r\n`);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
  await stopped;
  const second = exchange.slice(exchange.indexOf('HTTP/1.1', 1));
  const stopping = parseAnswer(second);
  t.equal(stopping.status, 503, `a request reaching the audit service while it stops: 503 (${second.split('\r\n')[0]})`);
  t.match(stopping.body, { code: 'SHUTTING_DOWN' }, 'SHUTTING_DOWN, as problem+json');
  t.match(stopping.headers, /^content-type: application\/problem\+json/m, 'problem+json');
  t.ok(Number(/^retry-after: *(\d+)/m.exec(stopping.headers)?.[1]) > 0, 'with Retry-After');
  t.match(stopping.headers, /^connection: close/m, 'and the connection closes');
  const integrity503 = documents.audit.paths['/v1/audit/integrity'].get.responses['503'] as { description?: string; headers?: Record<string, { required?: boolean }> };
  t.match(integrity503.description, 'SHUTTING_DOWN', 'the operation\'s 503 names SHUTTING_DOWN');
  t.equal(integrity503.headers?.['Retry-After']?.required, true, 'with Retry-After, always sent');
});
