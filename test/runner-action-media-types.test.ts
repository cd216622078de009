// The runner's management actions (PUT pause, PUT resume, POST restart) take no body: sent
// without one, or with an empty or JSON one (HTTP stacks that set a type on every request), they
// are carried out; a body of another media type — `text/plain`, a form — is refused with 415
// problem+json before anything is done, as the gateway and the console refuse it. The runner kept
// Fastify's text/plain parser, so all three took a text/plain body (and ignored it).
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('pause, resume and restart take no body or JSON, and refuse other media types with 415', async (t) => {
  const bus = await startTestBus(t, { name: 'runner-action-types' });
  const operator = await bus.client('lgsp-operator').accessToken();
  const act = (method: 'PUT' | 'POST', action: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${bus.runner!.url}/v1/connectors/relay/${action}`, { method, headers: { authorization: `Bearer ${operator}`, ...headers }, ...(body === undefined ? {} : { body }) });
  const state = async () => ((await (await fetch(`${bus.runner!.url}/v1/connectors/relay/status`, { headers: { authorization: `Bearer ${operator}` } })).json()) as { connector: { state: string } }).connector.state;

  for (const [method, action] of [['PUT', 'pause'], ['PUT', 'resume'], ['POST', 'restart']] as const) {
    for (const [type, body] of [['text/plain', 'now'], ['application/x-www-form-urlencoded', 'now=1'], ['application/xml', '<now/>']]) {
      const before = await state();
      const refused = await act(method, action, { 'content-type': type }, body);
      t.equal(refused.status, 415, `${method} ${action} with ${type}: 415`);
      t.match(refused.headers.get('content-type'), /^application\/problem\+json/);
      const problem = await refused.json();
      t.match(problem, { code: 'UNSUPPORTED_MEDIA_TYPE' }, `${method} ${action} with ${type}: UNSUPPORTED_MEDIA_TYPE`);
      // The runner's own document, not the gateway's /docs (which the runner does not serve).
      t.match(problem.detail, /this service's OpenAPI document at \/openapi\.json/, `${method} ${action} with ${type}: names the runner's OpenAPI document`);
      t.equal(await state(), before, `${method} ${action} with ${type}: nothing done`);
    }
  }

  t.equal((await act('PUT', 'pause')).status, 202, 'pause without a body');
  t.equal(await state(), 'PAUSED');
  t.equal((await act('PUT', 'resume', { 'content-type': 'application/json' })).status, 202, 'resume with an empty JSON body');
  t.equal(await state(), 'RUNNING');
  t.equal((await act('PUT', 'pause', { 'content-type': 'application/json' }, '{}')).status, 202, 'pause with a JSON body');
  t.equal((await act('PUT', 'resume', { 'content-type': 'application/json; charset=utf-8' }, '{}')).status, 202, 'resume with a JSON body and a charset');
  t.equal((await act('POST', 'restart')).status, 202, 'restart without a body');
  t.equal(await state(), 'RUNNING');

  const doc = (await (await fetch(`${bus.runner!.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  t.ok(doc.paths['/v1/connectors/{name}/pause'].put.responses['415'], 'the OpenAPI document lists the 415 of pause');
  t.ok(doc.paths['/v1/connectors/{name}/resume'].put.responses['415'], 'of resume');
  t.ok(doc.paths['/v1/connectors/{name}/restart'].post.responses['415'], 'of restart');
});
