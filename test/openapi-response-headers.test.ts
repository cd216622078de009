// What the OpenAPI document says about the gateway's answers that a generated client relies on,
// against real answers. An integrator who generated clients from /openapi.json found: the rate
// limit's headers (X-RateLimit-*, Retry-After on 429) sent but not documented; the Location of a
// 202, always sent, documented as optional; the token endpoint's `error` a bare string where
// RFC 6749 §5.2 codes are what a client switches on; and nothing saying that POST /v1/requests
// ignores an Idempotency-Key. Each header documented `required` must come with the answer, each
// header documented must match its schema, and each `error` the token endpoint answers with must
// be in its documented enum — which lists no code the endpoint never produces.
import t, { type Test } from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestBus } from './helpers/test-bus.js';
import { createClientAssertion } from '../services/platform/bus-client.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';
import { parseAnswer, rawExchange } from './helpers/raw-http.js';

type Header = { required?: boolean; description?: string; schema: Record<string, unknown> };
type Answer = { description: string; headers?: Record<string, Header>; content?: Record<string, { schema: { properties?: Record<string, { enum?: string[] }> } }> };
type Operation = { description?: string; parameters?: { name: string; in: string; description?: string }[]; responses: Record<string, Answer> };
type OpenApi = { paths: Record<string, Record<string, Operation>> };

const RATE_LIMIT = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

t.test('the headers and token errors the document gives are the ones the gateway sends', async (t) => {
  const bus = await startTestBus(t, {
    name: 'openapi-response-headers',
    runner: false,
    // Token requests are counted per address (every client of this test is 127.0.0.1): enough
    // for the clients' tokens and the refusals below, then the limit is reached on purpose.
    config: { tokenRateLimitPerMinute: 40 },
    // One client with a limit of its own, reached on purpose.
    registry: (registry) => {
      registry.systems.find((s) => s.clientId === 'so-khdt-qlvb')!.rateLimitPerMinute = 2;
    },
  });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as OpenApi;
  const ajv = new Ajv2020({ strict: false });

  /** The answer documented for an operation (`POST /v1/messages`) and status. */
  const documented = (operation: string, status: number): Answer => {
    const [method, path] = operation.split(' ');
    const answer = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    if (!answer) throw new Error(`${operation} documents no ${status} answer`);
    return answer;
  };
  /**
   * An answer's headers against its documentation: each one documented as required is there, and
   * each documented one that is there has a value its schema takes (as a client parses it: an
   * integer header read as a number).
   */
  const checkHeaders = (t: Test, operation: string, response: { status: number; headers: Headers }) => {
    const headers = documented(operation, response.status).headers ?? {};
    for (const [name, header] of Object.entries(headers)) {
      const value = response.headers.get(name);
      const what = `${operation} ${response.status} ${name}`;
      if (header.required) t.ok(value !== null, `${what}: documented as always sent, and sent`);
      if (value === null) continue;
      const parsed = header.schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      t.ok(ajv.validate(header.schema, parsed), `${what}: ${JSON.stringify(value)} matches ${JSON.stringify(header.schema)}`);
    }
    return headers;
  };
  /** checkHeaders, and the rate limit's headers (Retry-After too on a 429) among those documented as always sent. */
  const checkRateLimitHeaders = (t: Test, operation: string, response: { status: number; headers: Headers }) => {
    const headers = checkHeaders(t, operation, response);
    for (const name of [...RATE_LIMIT, ...(response.status === 429 ? ['retry-after'] : [])]) {
      const header = Object.entries(headers).find(([h]) => h.toLowerCase() === name)?.[1];
      t.equal(header?.required, true, `${operation} ${response.status}: ${name} documented as always sent`);
      t.ok(response.headers.get(name) !== null, `${operation} ${response.status}: ${name} sent`);
    }
  };

  const sender = bus.client('so-tttt-qlvb');
  const motcua = bus.client('so-tp-motcua');
  const limited = bus.client('so-khdt-qlvb');
  // Every token this test needs, before the token endpoint's own limit is reached at the end.
  await Promise.all([sender.accessToken(), motcua.accessToken(), limited.accessToken()]);

  await t.test('every 2xx and 429 of a rate-limited operation documents the rate limit headers as always sent', async (t) => {
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        operations++;
        for (const [status, answer] of Object.entries(op.responses)) {
          if (!/^2/.test(status) && status !== '429') continue;
          const names = Object.keys(answer.headers ?? {}).map((h) => h.toLowerCase());
          for (const name of [...RATE_LIMIT, ...(status === '429' ? ['retry-after'] : [])]) {
            const header = Object.entries(answer.headers ?? {}).find(([h]) => h.toLowerCase() === name)?.[1];
            t.ok(header?.required === true && header.schema.type === 'integer' && header.description, `${method.toUpperCase()} ${path} ${status}: ${name} (${names.join(', ')})`);
          }
        }
      }
    }
    t.ok(operations > 10, `${operations} operations`);
  });

  await t.test('the rate limit headers come with the answers, as documented', async (t) => {
    const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp giao ban', body: 'Nội dung' } };
    const sent = await sender.send(notice);
    t.equal(sent.status, 202);
    checkRateLimitHeaders(t, 'POST /v1/messages', sent);
    t.equal(sent.headers.get('x-ratelimit-limit'), String(bus.config.rateLimitPerMinute), 'the client\'s limit');
    checkRateLimitHeaders(t, 'GET /v1/messages/{id}', await sender.status(sent.body.id));
    for (const path of ['/v1/schemas', '/.well-known/jwks.json', '/healthz']) {
      const response = await fetch(`${bus.gateway.url}${path}`);
      t.equal(response.status, 200, path);
      checkRateLimitHeaders(t, `GET ${path}`, response);
    }
    const creds = bus.clients.get('so-tttt-qlvb')!;
    const token = await fetch(`${bus.gateway.url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: await createClientAssertion(creds, bus.config.issuer) }),
    });
    t.equal(token.status, 200);
    checkRateLimitHeaders(t, 'POST /v1/token', token);
    t.equal(token.headers.get('x-ratelimit-limit'), '40', 'the token endpoint\'s own limit, per address');

    // The client with a limit of 2 a minute: two answers, then a 429.
    const first = await limited.request('GET', '/v1/services');
    const second = await limited.request('GET', '/v1/services');
    const refused = await limited.request('GET', '/v1/services');
    t.same([first.status, second.status, refused.status], [200, 200, 429]);
    checkRateLimitHeaders(t, 'GET /v1/services', first);
    t.same([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining'), second.headers.get('x-ratelimit-remaining')], ['2', '1', '0']);
    checkRateLimitHeaders(t, 'GET /v1/services', refused);
    t.equal(refused.headers.get('x-ratelimit-remaining'), '0');
    t.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After: the seconds left in the window');
  });

  await t.test('Location is documented as always sent where it is, and sent', async (t) => {
    let locations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, answer] of Object.entries(op.responses ?? {})) {
          const location = answer.headers?.Location;
          if (!location || !/^20[12]$/.test(status)) continue;
          locations++;
          t.equal(location.required, true, `${method.toUpperCase()} ${path} ${status}: Location is always sent`);
          t.same(location.schema, { type: 'string' }, `${method.toUpperCase()} ${path} ${status}: Location's schema`);
        }
      }
    }
    t.ok(locations >= 2, 'POST /v1/messages and POST /v1/attachments document their Location');
    const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'openapi-headers-location', payload: { subject: 'Họp', body: 'Nội dung' } };
    // A first answer and an Idempotency-Key's repeat both carry it.
    const first = await sender.send(notice, 'openapi-headers-location');
    const again = await sender.send(notice, 'openapi-headers-location');
    for (const answer of [first, again]) {
      t.equal(answer.status, 202);
      checkHeaders(t, 'POST /v1/messages', answer);
      t.equal(answer.headers.get('location'), `/v1/messages/${first.body.id}`);
    }
  });

  // Sent with every item and every download, but documented as optional: a generated client read
  // LGSP-Signature, which a receiver must verify before storing, as a header that may be missing.
  await t.test('the headers of an inbox item and of a download are documented as always sent', async (t) => {
    const item = documented('GET /v1/inbox/{id}', 200).headers ?? {};
    for (const name of ['LGSP-Signature', 'LGSP-Message-Id', 'LGSP-Message-Type', 'LGSP-Correlation-Id']) t.equal(item[name]?.required, true, `GET /v1/inbox/{id} 200: ${name} always sent`);
    t.not(item['LGSP-Document-Signature']?.required, true, 'LGSP-Document-Signature only with edoc.* items: not said always sent');
    t.equal(documented('GET /v1/attachments/{sha256}', 200).headers?.['Repr-Digest']?.required, true, 'GET /v1/attachments/{sha256} 200: Repr-Digest always sent');
    const token = await sender.accessToken();
    const uploaded = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/pdf' }, body: 'openapi-response-headers' });
    t.equal(uploaded.status, 201);
    const download = await fetch(`${bus.gateway.url}${uploaded.headers.get('location')}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(download.status, 200);
    await download.arrayBuffer();
    checkHeaders(t, 'GET /v1/attachments/{sha256}', download);
  });

  await t.test('POST /v1/requests says that it ignores an Idempotency-Key, and does', async (t) => {
    const op = doc.paths['/v1/requests'].post;
    t.match(op.description, /Idempotency-Key is not used here/, 'the operation says so');
    t.notOk(op.parameters?.some((p) => p.name.toLowerCase() === 'idempotency-key'), 'and declares no such parameter');
    t.ok(doc.paths['/v1/messages'].post.parameters?.some((p) => p.name.toLowerCase() === 'idempotency-key'), '(POST /v1/messages does)');
    // Nobody answers lookups on this bus (no runner): each request ends in 504 after a second,
    // naming the request it sent. The same key twice: two requests, not the first one replayed.
    const lookup = { type: 'dossier.lookup', to: { member: '000.00.00.G22', service: 'dvcqg-lookup' }, payload: { dossierCode: '000.00.15.H49-260115-0040' } };
    const headers = { 'idempotency-key': 'openapi-headers-lookup', prefer: 'wait=1' };
    const first = await motcua.request('POST', '/v1/requests', lookup, headers);
    const second = await motcua.request('POST', '/v1/requests', lookup, headers);
    t.same([first.status, second.status], [504, 504], JSON.stringify([first.body, second.body]));
    for (const answer of [first, second]) {
      checkHeaders(t, 'POST /v1/requests', answer);
      t.equal(answer.headers.get('location'), `/v1/messages/${answer.body.messageId}`);
    }
    t.not(first.body.messageId, second.body.messageId, 'the same key twice made two requests');
  });

  await t.test('every token error answered is in the documented enum, which lists only those', async (t) => {
    const creds = bus.clients.get('so-tttt-qlvb')!;
    const basic = (secret: string) => `Basic ${Buffer.from(`${creds.clientId}:${secret}`).toString('base64')}`;
    const form = 'application/x-www-form-urlencoded';
    const refusals: [string, Record<string, string>, string][] = [
      ['no grant_type', { 'content-type': form }, ''],
      ['malformed JSON', { 'content-type': 'application/json' }, '{"grant_type":'],
      ['a parameter twice', { 'content-type': form }, 'grant_type=client_credentials&grant_type=client_credentials'],
      ['both authentication methods', { 'content-type': form, authorization: basic('x') }, `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}&client_assertion=a.b.c`],
      ['another grant type', { 'content-type': form }, 'grant_type=password'],
      ['a scope', { 'content-type': form, authorization: basic('x') }, 'grant_type=client_credentials&scope=read'],
      ['no client authentication', { 'content-type': form }, 'grant_type=client_credentials'],
      ['a wrong secret', { 'content-type': form, authorization: basic('wrong') }, 'grant_type=client_credentials'],
      ['an assertion that is not a JWT', { 'content-type': form }, `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER_ASSERTION)}&client_assertion=nope`],
    ];
    const produced: Record<string, Set<string>> = {};
    for (const [what, headers, body] of refusals) {
      const response = await fetch(`${bus.gateway.url}/v1/token`, { method: 'POST', headers, body });
      const answer = (await response.json()) as { error?: string; error_description?: string };
      const schema = documented('POST /v1/token', response.status).content?.['application/json']?.schema;
      const codes = schema?.properties?.error?.enum ?? [];
      t.ok(answer.error && codes.includes(answer.error), `${what}: ${response.status} ${answer.error} is documented (${codes.join(', ')})`);
      t.type(answer.error_description, 'string', `${what}: with its description`);
      (produced[response.status] ??= new Set()).add(answer.error!);
    }
    // A request malformed before any parameter is read (a header line sent twice: Node keeps one
    // and drops the other unseen) is refused by checks every route meets: at this endpoint too
    // with an OAuth body, the one its 400 documents (it was a 500: the problem document did not
    // fit the route's 400 schema).
    const { host, port } = new URL(bus.gateway.url);
    const params = 'grant_type=client_credentials';
    for (const [what, lines] of [
      ['Content-Type twice', [`host: ${host}`, `content-type: ${form}`, 'content-type: application/json']],
      ['Host twice', [`host: ${host}`, `host: ${host}`, `content-type: ${form}`]],
    ] as const) {
      const { answer } = await rawExchange(Number(port), ['POST /v1/token HTTP/1.1', ...lines, `content-length: ${params.length}`, 'connection: close', '', params].join('\r\n'));
      const response = parseAnswer(answer);
      const mediaType = /^content-type: *([^;\r]*)/m.exec(response.headers)?.[1];
      const answerBody = response.body as { error?: string; error_description?: string };
      const codes = documented('POST /v1/token', response.status).content?.[mediaType ?? '']?.schema.properties?.error?.enum ?? [];
      t.equal(response.status, 400, `${what}: 400`);
      t.ok(answerBody.error && codes.includes(answerBody.error), `${what}: ${response.status} ${mediaType} ${answerBody.error} is documented (${codes.join(', ')})`);
      t.type(answerBody.error_description, 'string', `${what}: with its description`);
      (produced[response.status] ??= new Set()).add(answerBody.error!);
    }
    for (const status of [400, 401]) {
      const codes = documented('POST /v1/token', status).content?.['application/json']?.schema.properties?.error?.enum;
      t.same([...(produced[status] ?? [])].sort(), [...(codes ?? [])].sort(), `${status}: the codes documented are the codes answered`);
    }
    t.same(documented('POST /v1/token', 503).content?.['application/json']?.schema.properties?.error?.enum, ['temporarily_unavailable'], '503: temporarily_unavailable (test/postgres-outage.test.ts meets it)');
  });

  // Schemathesis, replaying its cases against the document, found the rate limit's headers on
  // the refusals of counted operations (a 404, a 422, the token endpoint's 400) undocumented: a
  // client generated from the document could not read what it had left after a refused request.
  await t.test('a refusal made after the count carries the rate limit headers, documented for its status', async (t) => {
    const refusals: [string, Promise<{ status: number; headers: Headers }>, number][] = [
      ['GET /v1/messages/{id}', sender.request('GET', '/v1/messages/01a24316-cd60-729d-a542-03fad4f75636'), 404],
      ['POST /v1/messages', sender.request('POST', '/v1/messages', { type: 'notice.send', to: { member: '000.00.99.H49', service: 'notice' }, payload: { subject: 'Họp', body: 'Nội dung' } }), 422],
      ['GET /v1/inbox', sender.request('GET', '/v1/inbox?limit=0'), 400],
      ['POST /v1/token', fetch(`${bus.gateway.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password' }), 400],
    ];
    for (const [operation, pending, status] of refusals) {
      const response = await pending;
      t.equal(response.status, status, `${operation}: ${status}`);
      const headers = checkHeaders(t, operation, response);
      for (const name of RATE_LIMIT) {
        t.ok(response.headers.get(name) !== null, `${operation} ${status}: ${name} sent`);
        const header = Object.entries(headers).find(([h]) => h.toLowerCase() === name)?.[1];
        t.ok(header, `${operation} ${status}: ${name} documented`);
        t.not(header?.required, true, `${operation} ${status}: ${name} not said always sent (a refusal before the count has none)`);
      }
    }
    // A refusal before the count: no token, no rate limit headers (documented as optional).
    const anonymous = await fetch(`${bus.gateway.url}/v1/messages/01a24316-cd60-729d-a542-03fad4f75636`);
    t.equal(anonymous.status, 401);
    t.same(RATE_LIMIT.filter((name) => anonymous.headers.get(name) !== null), [], 'a 401 for a missing token is refused before the count');
    checkHeaders(t, 'GET /v1/messages/{id}', anonymous);
  });

  await t.test('the token endpoint\'s own limit: its 429 carries the documented headers', async (t) => {
    let refused: Response | undefined;
    for (let i = 0; i < 45 && !refused; i++) {
      const response = await fetch(`${bus.gateway.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
      await response.arrayBuffer();
      if (response.status === 429) refused = response;
    }
    if (!refused) {
      t.fail('the limit is reached');
      return;
    }
    checkRateLimitHeaders(t, 'POST /v1/token', refused);
    t.same([refused.headers.get('x-ratelimit-limit'), refused.headers.get('x-ratelimit-remaining')], ['40', '0']);
  });
});
