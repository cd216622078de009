// Every documented operation of the gateway, the runner and the audit service, driven with the
// requests a client gets wrong — no token, a refused or malformed one, a token without the role,
// a query parameter not in its form, a body that is not JSON, of a type the operation does not
// take or too large (a POST or PUT that takes no body included), a method the path does not
// have, an `Expect` it does not meet — beside a plain call with a valid token, and each answer
// checked against the service's own served OpenAPI document: no 5xx but a documented 503, the
// status documented for the operation (a method the path does not have: 405 with Allow), the media
// type documented for that status, every error problem+json (the token endpoint's OAuth errors
// excepted, as documented), the body valid against the documented schema (Ajv 2020, as OpenAPI
// 3.1 reads it), every header a client reads documented for the status, every header documented
// as always sent present. What Schemathesis checked by hand on a running stack (its findings:
// QUERY answered 400, the rate limit's and the Bearer challenge's headers on refusals
// undocumented, a body sent to an operation taking none answered an undocumented 413 or 415), in CI on the stack the tests start, without a fuzzer: a fixed set of mistakes
// per operation, so it stays a few hundred requests. test/openapi-answers.test.ts checks the
// success answers with full data; test/openapi-refusals-documented.test.ts the refusals that
// need PostgreSQL stopped.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { openApiSchemas } from './helpers/openapi-schemas.js';
import { startTestBus } from './helpers/test-bus.js';
import { startAuditService } from '../services/audit/audit-service.js';

type Media = { schema?: Record<string, unknown> };
type Answer = { description?: string; headers?: Record<string, { required?: boolean }>; content?: Record<string, Media> };
type Parameter = { name: string; in: string; required?: boolean; schema?: { type?: string } };
type Operation = { security?: Record<string, unknown>[]; parameters?: Parameter[]; requestBody?: { content: Record<string, Media> }; responses: Record<string, Answer> };
type OpenApi = { openapi: string; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** Response headers a client reads beside the body: each must be documented for the answer's status. */
const CLIENT_HEADERS = /^(lgsp-.*|repr-digest|location|x-ratelimit-.*|retry-after|www-authenticate)$/;
/** A value for each path parameter of the three documents: none names anything that exists but the type. */
const SAMPLE: Record<string, string> = { id: '01a24316-cd60-729d-a542-03fad4f75636', type: 'notice.send', sha256: '0'.repeat(64), documentId: '000.00.15.H49,2026/01/02,1/CV', name: 'no-such-connector' };
const REQUIRED_QUERY: Record<string, string> = { documentId: SAMPLE.documentId };
/** A JSON pointer token (RFC 6901). */
const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * fetch, or node:http for a request fetch refuses to send (undici will not send `Expect`), its
 * answer read into a Response so that every answer is checked the same way.
 */
async function send(url: string, request: Request): Promise<Response> {
  if (request.headers.expect === undefined) return fetch(url, { method: request.method, headers: request.headers, body: request.body });
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: request.method, headers: request.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) for (const v of [value ?? []].flat()) headers.append(name, v);
        resolve(new Response(chunks.length ? Buffer.concat(chunks) : null, { status: res.statusCode, headers }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
}

interface Request {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

t.test('every documented operation answers its mistakes as its OpenAPI document says', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-conformance-walk' });
  const audit = await startAuditService({ ...bus.config }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => audit.stop());
  const services = { gateway: bus.gateway.url, runner: bus.runner!.url, audit: audit.url };
  const agency = `Bearer ${await bus.client('vp-ubnd-qlvb').accessToken()}`;
  const operator = `Bearer ${await bus.client('lgsp-operator').accessToken()}`;

  let requests = 0;
  for (const [service, serviceUrl] of Object.entries(services)) {
    const doc = (await (await fetch(`${serviceUrl}/openapi.json`)).json()) as OpenApi;
    t.match(doc.openapi, /^3\.1\./, `${service}: OpenAPI 3.1`);
    const ajv = openApiSchemas(doc, service);
    const validators = new Map<string, ValidateFunction | undefined>();
    const validatorFor = (method: string, path: string, status: string, mediaType: string) => {
      const ref = `urn:lgsp:openapi:${service}#/paths/${pointer(path)}/${method}/responses/${status}/content/${pointer(mediaType)}/schema`;
      if (!validators.has(ref)) validators.set(ref, ajv.getSchema(ref));
      return validators.get(ref);
    };
    // The gateway's operations are an agency system's; the runner's and the audit's an operator's.
    const valid = service === 'gateway' ? agency : operator;

    for (const [path, item] of Object.entries(doc.paths)) {
      const documentedMethods = Object.keys(item).filter((m) => METHODS.includes(m));
      for (const method of documentedMethods) {
        const op = item[method];
        // A request too slow to arrive cannot be sent here (the headers timeout is a minute): that
        // its 408 is documented on every operation, naming its code, is checked instead
        // (test/openapi-request-timeout.test.ts sends one to a server built like these).
        t.match(op.responses['408']?.content?.['application/problem+json'] && op.responses['408'].description, service === 'gateway' ? /within 1 min, or the whole request, its body included, not within 5 min .*\bREQUEST_TIMEOUT\b/ : /within 1 min \(.*\bREQUEST_TIMEOUT\b/, `${service}: ${method.toUpperCase()} ${path} documents 408 REQUEST_TIMEOUT as problem+json`);
        const query = new URLSearchParams(Object.fromEntries((op.parameters ?? []).filter((p) => p.in === 'query' && p.required).map((p) => [p.name, REQUIRED_QUERY[p.name] ?? 'x'])));
        const url = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(SAMPLE[name] ?? 'x')) + (query.size ? `?${query}` : '');
        const bearer = (op.security ?? []).some((s) => 'bearer' in s);
        const json = op.requestBody?.content['application/json'] !== undefined;
        const plain: Omit<Request, 'what'> = { method: method.toUpperCase(), url, headers: bearer ? { authorization: valid } : {} };
        const variants: Request[] = [{ ...plain, what: 'as documented', ...(json ? { headers: { ...plain.headers, 'content-type': 'application/json' }, body: '{}' } : {}) }];
        if (bearer) {
          variants.push(
            { ...plain, what: 'no token', headers: {} },
            { ...plain, what: 'a refused token', headers: { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA' } },
            { ...plain, what: 'an empty Bearer', headers: { authorization: 'Bearer ' } },
            { ...plain, what: 'Basic instead of Bearer', headers: { authorization: 'Basic Zm9vOmJhcg==' } },
          );
          if (service !== 'gateway') variants.push({ ...plain, what: 'an agency system\'s token', headers: { authorization: agency } });
        }
        for (const parameter of (op.parameters ?? []).filter((p) => p.in === 'query')) {
          const bad = new URLSearchParams(query);
          bad.set(parameter.name, parameter.schema?.type === 'integer' ? 'many' : '\u0000');
          variants.push({ ...plain, what: `query ${parameter.name} not in its form`, url: `${url.split('?')[0]}?${bad}` });
        }
        // A POST or PUT that takes no body still meets clients that send one (a JSON `{}` out of
        // habit, a form tool's multipart header): it is read as its Content-Type says.
        if (op.requestBody || ['post', 'put', 'patch'].includes(method)) {
          if (json || !op.requestBody) variants.push({ ...plain, what: 'broken JSON', headers: { ...plain.headers, 'content-type': 'application/json' }, body: '{"type":' });
          if (!op.requestBody?.content['*/*']) variants.push({ ...plain, what: 'a body of an undocumented type', headers: { ...plain.headers, 'content-type': 'text/x-unknown' }, body: 'bytes' });
          if (!op.requestBody) variants.push({ ...plain, what: 'a body past the size limit', headers: { ...plain.headers, 'content-type': 'application/json' }, body: JSON.stringify('x'.repeat(bus.config.maxBodyBytes)) });
        }
        // An expectation other than 100-continue (RFC 9110 §10.1.1) is refused before any route
        // (expect-continue.ts), on every operation alike.
        variants.push({ ...plain, what: 'an Expect header other than 100-continue', headers: { ...plain.headers, expect: 'x-unknown-expectation' } });
        for (const other of ['QUERY', 'DELETE', 'PATCH'].filter((m) => !documentedMethods.includes(m.toLowerCase()))) {
          variants.push({ ...plain, what: `the undocumented method ${other}`, method: other });
        }

        for (const request of variants) {
          requests++;
          const response = await send(`${serviceUrl}${request.url}`, request);
          const text = await response.text();
          const status = String(response.status);
          const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
          const what = `${service}: ${method.toUpperCase()} ${path}, ${request.what} → ${status} ${mediaType}`;
          const sent = [...response.headers.keys()];
          t.ok(response.status < 500 || response.status === 503, `${what}: no server error`, { body: text.slice(0, 300) });
          if (request.method !== method.toUpperCase()) {
            t.equal(status, '405', `${what}: 405`);
            t.ok(response.headers.get('allow')?.split(', ').includes(method.toUpperCase()), `${what}: Allow names ${method.toUpperCase()}`);
            t.equal(mediaType, 'application/problem+json', `${what}: problem+json`);
            continue;
          }
          const answer = op.responses[status];
          if (!t.ok(answer, `${what}: the status is documented (${Object.keys(op.responses).join(', ')})`, { body: text.slice(0, 300) })) continue;
          if (response.status >= 400 && !(path === '/v1/token' && mediaType === 'application/json')) t.equal(mediaType, 'application/problem+json', `${what}: an error as problem+json`);
          const content = answer.content ?? {};
          if (!answer.content) t.equal(text, '', `${what}: no body, as documented`);
          else if (t.ok(content[mediaType], `${what}: the media type is documented (${Object.keys(content).join(', ')})`) && /[/+]json$/.test(mediaType)) {
            const validate = validatorFor(method, path, status, mediaType);
            t.ok(validate?.(JSON.parse(text)), `${what}: the body matches its schema`, { errors: validate?.errors, body: text.slice(0, 500) });
          }
          const documented = Object.fromEntries(Object.entries(answer.headers ?? {}).map(([h, v]) => [h.toLowerCase(), v]));
          for (const header of sent.filter((h) => CLIENT_HEADERS.test(h))) t.ok(documented[header], `${what}: ${header} is documented (${Object.keys(documented).join(', ') || 'none'})`);
          for (const [header, object] of Object.entries(documented)) if (object.required) t.ok(sent.includes(header), `${what}: ${header}, documented as always sent, is sent`);
        }
      }
    }
  }
  t.ok(requests > 200, `${requests} requests`);
});
