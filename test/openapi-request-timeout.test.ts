// A request whose headers (or, where the service bounds it, whole body) arrive too slowly is
// ended by Node's parser before any route and answered 408 REQUEST_TIMEOUT (client-errors.ts), on
// whatever operation it was for; the OpenAPI documents listed no 408 anywhere, so a generated
// client met a status its operation did not have. Here a server built as every service is
// (SERVICE_SERVER_OPTIONS, the problem handler, withCommonResponses), with timeouts short enough
// to wait for, is sent a request whose headers stop coming and one whose body stops coming: each
// 408 is documented for its operation, naming its code, and matches the documented schema.
// test/openapi-conformance-walk.test.ts checks that the gateway's, the runner's and the audit
// service's served documents list it on every operation.
import t from 'tap';
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import { openApiSchemas } from './helpers/openapi-schemas.js';
import { parseAnswer, rawExchange } from './helpers/raw-http.js';
import { SERVICE_SERVER_OPTIONS } from '../services/platform/service-server-options.js';
import { problemHandler } from '../services/platform/problem-handler.js';
import { withCommonResponses } from '../services/platform/openapi-common-responses.js';
import { okResponse } from '../services/platform/openapi-shapes.js';

type OpenApi = { paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>> };

t.test('a request that times out is answered 408 REQUEST_TIMEOUT, as the operation documents', async (t) => {
  const requestTimeoutMs = 1500;
  const app = Fastify({
    ...SERVICE_SERVER_OPTIONS,
    requestTimeout: requestTimeoutMs,
    http: { ...SERVICE_SERVER_OPTIONS.http, headersTimeout: 300, connectionsCheckingInterval: 50 },
  });
  await app.register(problemHandler, { maxBodyBytes: 1024 });
  await app.register(swagger, {
    openapi: { openapi: '3.1.0', info: { title: 'timeouts', version: '1' } },
    transformObject: (document) => ('openapiObject' in document ? withCommonResponses(document.openapiObject, new Set(), { requestTimeoutMs }) : document.swaggerObject),
  });
  app.get('/things/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string' } } }, response: okResponse('a thing') } }, async () => ({}));
  app.post('/things', { schema: { body: { type: 'object' }, response: okResponse('created') } }, async () => ({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  const doc = app.swagger() as unknown as OpenApi;
  const ajv = openApiSchemas(doc, 'timeouts');

  const cases = [
    { what: 'headers that stop coming', method: 'get', path: '/things/{id}', raw: 'GET /things/1 HTTP/1.1\r\nHost: x\r\n' },
    { what: 'a body that stops coming', method: 'post', path: '/things', raw: 'POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"a":' },
  ];
  for (const c of cases) {
    const { answer, closed } = await rawExchange(port, c.raw, 10_000);
    t.ok(closed, `${c.what}: the connection closes`);
    const got = parseAnswer(answer);
    t.equal(got.status, 408, `${c.what}: 408`);
    t.match(got.headers, /content-type: application\/problem\+json/);
    t.match(got.body, { status: 408, code: 'REQUEST_TIMEOUT' });
    const documented = doc.paths[c.path][c.method].responses['408'];
    if (!t.ok(documented, `${c.method.toUpperCase()} ${c.path} documents 408 (${Object.keys(doc.paths[c.path][c.method].responses).join(', ')})`)) continue;
    t.match(documented.description, /\bREQUEST_TIMEOUT\b/, 'it names its code');
    const validate = ajv.getSchema(`urn:lgsp:openapi:timeouts#/paths/${c.path.replace(/\//g, '~1')}/${c.method}/responses/408/content/application~1problem+json/schema`);
    t.ok(validate?.(got.body), `${c.what}: the answer matches the documented schema`, { errors: validate?.errors });
  }
  t.match(doc.paths['/things'].post.responses['408']?.description ?? '', /the whole request, its body included, not within 1\.5 s/, 'the whole request\'s bound is named where the service sets one');

  const fine = await fetch(`http://127.0.0.1:${port}/things/1`);
  t.equal(fine.status, 200, 'the service goes on answering');
});

t.test('with an idle timeout (the gateway), the 408 names a body that stops arriving too', async (t) => {
  const doc = withCommonResponses({ openapi: '3.1.0', paths: { '/x': { post: { responses: {} } } } }, new Set(), { requestTimeoutMs: 300_000, idleTimeoutMs: 60_000 }) as unknown as OpenApi;
  t.match(doc.paths['/x'].post.responses['408']?.description ?? '', /its body stopped arriving: nothing for 1 min/);
});

t.test('without a bound on the whole request, the 408 names the headers timeout only', async (t) => {
  const doc = withCommonResponses({ openapi: '3.1.0', paths: { '/x': { get: { responses: {} } } } }) as unknown as OpenApi;
  const description = doc.paths['/x'].get.responses['408']?.description ?? '';
  t.match(description, /request line and headers did not all arrive within 1 min/);
  t.notMatch(description, /whole request/);
  t.match(description, /\bREQUEST_TIMEOUT\b/);
});
