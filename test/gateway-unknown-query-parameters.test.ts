// Every read of the gateway refuses a query parameter it does not take, with 400 problem+json
// naming it (unknown-query-parameters.ts): `GET /v1/messages/{id}?foo=1` answered as if the
// parameter meant something, where /v1/services, /v1/members and /v1/schemas refused it. Each GET
// operation of the served OpenAPI document is asked, so a read added later is covered too, and
// each documents the 400.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

type OpenApi = { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, { description?: string }> }>> };

/** A value for each path parameter that passes its pattern (a digest for the attachment route). */
const pathValue = (name: string) => (name === 'sha256' ? 'a'.repeat(64) : 'edoc.send');

t.test('every GET operation of the gateway refuses an unknown query parameter', async (t) => {
  const bus = await startTestBus(t, { name: 'unknown-query', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const doc = (await (await fetch(`${bus.gateway.url}/docs/json`)).json()) as OpenApi;
  const reads = Object.entries(doc.paths).filter(([, item]) => item.get).map(([path]) => path);
  t.ok(reads.includes('/v1/messages/{id}') && reads.includes('/v1/attachments/{sha256}') && reads.includes('/healthz'), `the reads are listed (${reads.join(', ')})`);

  for (const path of reads) {
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => pathValue(name));
    const res = await fetch(`${bus.gateway.url}${url}?lgsp_unknown=1`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 400, `GET ${path}?lgsp_unknown=1: 400`);
    t.match(res.headers.get('content-type'), /^application\/problem\+json/, `${path}: problem+json`);
    const body = (await res.json()) as { code?: string; errors?: { field: string; message: string }[] };
    t.equal(body.code, 'VALIDATION_FAILED', `${path}: VALIDATION_FAILED`);
    t.ok(body.errors?.some((e) => e.field === 'querystring.lgsp_unknown' && e.message === 'unknown property "lgsp_unknown"'), `${path}: names the parameter (${JSON.stringify(body.errors)})`);
    t.ok(doc.paths[path].get.responses['400'], `${path}: the 400 is documented`);
  }

  // A parameter with no name (`?=1`, a query built from an empty key) was refused without being
  // named: "querystring must NOT have additional properties".
  const unnamed = await fetch(`${bus.gateway.url}/v1/members?=1`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(unnamed.status, 400, '?=1: 400');
  t.same((await unnamed.json()).errors, [{ field: 'querystring.', message: 'unknown property ""' }], '?=1: the parameter without a name is named as such');

  // What the reads do take still works.
  const sent = await bus.client('so-tttt-qlvb').send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Thông báo', body: 'Kính gửi' } } as never);
  t.equal(sent.status, 202);
  const sender = await bus.client('so-tttt-qlvb').accessToken();
  t.equal((await fetch(`${bus.gateway.url}/v1/messages/${sent.body.id}`, { headers: { authorization: `Bearer ${sender}` } })).status, 200, 'the status without a query');
  t.match(doc.paths['/v1/messages/{id}'].get.responses['400'].description, /a query parameter the operation does not take/, 'the document says why a read answers 400');
  t.equal((await fetch(`${bus.gateway.url}/.well-known/jwks.json?purpose=delivery`)).status, 200, 'a parameter a read takes is taken');
});
