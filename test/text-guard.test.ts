// Text no service can keep or pass on (text-guard.ts) — U+0000, lone surrogates, absurd nesting —
// is refused at the door of every service with a 400 problem+json naming the field; URLs the
// router refuses are problem+json too; 401s carry a WWW-Authenticate challenge; a route that
// takes the method but finds nothing is a 404, not a 405. Checked on a bare Fastify app with the
// plugins every service registers (no Kafka, no PostgreSQL needed).
import t from 'tap';
import Fastify from 'fastify';
import { textProblem, MAX_JSON_DEPTH } from '../services/platform/text-guard.js';
import { asciiHeaderValue } from '../services/platform/http-header-value.js';
import { frameworkErrors, problemHandler } from '../services/platform/problem-handler.js';
import { bearerAuth } from '../services/platform/bearer-auth.js';
import type { AccessTokenVerifier } from '../services/platform/access-token.js';

const nested = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

t.test('textProblem', async (t) => {
  t.equal(textProblem({ subject: 'Công văn số 12/UBND', list: ['a', { b: 'Ω' }], n: 1, ok: true, none: null }), null, 'ordinary text passes');
  t.same(textProblem({ correlationId: 'x\u0000y' }), { field: 'correlationId', message: 'must not contain the character U+0000' });
  t.same(textProblem({ payload: { items: ['ok', 'x\ud800y'] } }), { field: 'payload.items[1]', message: 'must be well-formed Unicode (a lone surrogate has no UTF-8 form)' });
  t.equal(textProblem({ emoji: '\ud83d\ude00' }), null, 'a surrogate pair is well-formed');
  t.match(textProblem({ ['k\u0000']: 1 }), { field: '(body)', message: /property name/ });
  t.equal(textProblem(nested(MAX_JSON_DEPTH - 1)), null, `${MAX_JSON_DEPTH - 1} levels pass`);
  t.match(textProblem(nested(5000)), { message: /nest deeper than 64 levels/ }, '5,000 levels: refused, no stack overflow');
  t.same(textProblem({ q: '\u0000' }, 'querystring'), { field: 'querystring.q', message: 'must not contain the character U+0000' });
  t.equal(textProblem(Buffer.from([0, 0xff])), null, 'bytes are not text');
});

t.test('asciiHeaderValue never throws', async (t) => {
  t.equal(asciiHeaderValue('HS-2026/001'), 'HS-2026/001');
  t.equal(asciiHeaderValue('Hồ sơ'), encodeURIComponent('Hồ sơ'));
  t.equal(asciiHeaderValue('x\ud800y'), 'x%EF%BF%BDy', 'a lone surrogate travels as U+FFFD');
  // One rule for receivers: a value with "%" is encoded, any other is the text itself.
  t.equal(asciiHeaderValue('50%'), '50%25', 'a "%" is encoded too');
  t.not(asciiHeaderValue('x%C3%B4'), asciiHeaderValue('xô'), 'ASCII text that looks encoded is not confused with the letter it spells');
  for (const text of ['xô', 'x%C3%B4', '%C4%90-1', 'Đ-1', '50%', 'Công văn số 12/CV-Ủy ban']) {
    const header = asciiHeaderValue(text);
    t.equal(header.includes('%') ? decodeURIComponent(header) : header, text, `${text} comes back`);
  }
});

t.test('every service refuses such text, and its router errors are problem+json', async (t) => {
  const app = Fastify({ logger: false, frameworkErrors });
  t.teardown(() => app.close());
  await app.register(problemHandler, { maxBodyBytes: 1024 * 1024 });
  const verifier = { verify: async (token: string) => (token === 'good' ? { clientId: 'c', member: 'm', roles: ['agency'] } : Promise.reject(new Error('token expired'))) };
  await app.register(bearerAuth, { verifier: verifier as unknown as AccessTokenVerifier });
  const stored: unknown[] = [];
  app.get<{ Params: { id: string } }>('/items/:id', async (req) => ({ id: req.params.id }));
  app.post('/items', async (req, reply) => {
    stored.push(req.body);
    return reply.code(201).send({ ok: true });
  });
  app.get('/secure', { config: { auth: true } }, async () => ({ ok: true }));
  app.get('/files/*', async (_req, reply) => reply.callNotFound());

  const problem = async (res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) => {
    t.equal(res.statusCode, status);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    t.match(res.json(), { status, code });
    return res.json() as { errors?: { field: string }[] };
  };

  t.match((await problem(await app.inject({ url: '/items/a%00b' }), 400, 'VALIDATION_FAILED')).errors, [{ field: 'params.id' }], 'NUL in a path parameter');
  t.match((await problem(await app.inject({ url: '/items/a?q=%00' }), 400, 'VALIDATION_FAILED')).errors, [{ field: 'querystring.q' }], 'NUL in the query string');
  const post = (payload: string) => app.inject({ method: 'POST', url: '/items', headers: { 'content-type': 'application/json' }, payload });
  t.match((await problem(await post('{"correlationId":"x\\u0000"}'), 400, 'VALIDATION_FAILED')).errors, [{ field: 'correlationId' }], 'NUL in a JSON body');
  t.match((await problem(await post('{"payload":{"s":"x\\ud800"}}'), 400, 'VALIDATION_FAILED')).errors, [{ field: 'payload.s' }], 'lone surrogate in a JSON body');
  await problem(await post(`{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`), 400, 'VALIDATION_FAILED');
  t.same(stored, [], 'nothing refused reached the handler');
  t.equal((await post('{"subject":"Giấy mời họp"}')).statusCode, 201, 'ordinary text passes');

  await problem(await app.inject({ url: '/items/%FF' }), 400, 'BAD_REQUEST');
  await problem(await app.inject({ url: '/items/a?q=%E1%BB' }), 400, 'BAD_REQUEST');
  t.same((await app.inject({ url: '/items/a?q=H%E1%BB%93+s%C6%A1' })).json(), { id: 'a' }, 'a well-encoded Vietnamese query passes');
  await problem(await app.inject({ url: `/items/${'x'.repeat(5000)}` }), 414, 'URI_TOO_LONG');

  const none = await app.inject({ url: '/secure' });
  await problem(none, 401, 'UNAUTHENTICATED');
  t.equal(none.headers['www-authenticate'], 'Bearer realm="lgsp"');
  const bad = await app.inject({ url: '/secure', headers: { authorization: 'Bearer nope' } });
  await problem(bad, 401, 'INVALID_TOKEN');
  t.equal(bad.headers['www-authenticate'], 'Bearer realm="lgsp", error="invalid_token"');
  t.equal((await app.inject({ url: '/secure', headers: { authorization: 'Bearer good' } })).statusCode, 200);

  await problem(await app.inject({ url: '/files/missing.js' }), 404, 'ROUTE_NOT_FOUND');
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/files/missing.js' });
  await problem(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
});
