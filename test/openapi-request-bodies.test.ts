// The request bodies the gateway's OpenAPI document gives against what the gateway takes. A
// client generated from the document checks its request by these schemas, and Schemathesis sends
// what they allow expecting it taken: it sent `{}` and `{"grant_type": ""}` to POST /v1/token (the
// schema required no parameter; the endpoint refuses a request without grant_type, RFC 6749
// §4.4.2, and one sent empty counts as omitted, §3.1) and an empty
// body to POST /v1/attachments (the schema took any string; an empty attachment is refused). For
// each body, the documented schema's verdict (Ajv 2020, as OpenAPI 3.1 reads it) and the
// gateway's must agree: refused by the schema exactly when the gateway refuses it as malformed.
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestBus } from './helpers/test-bus.js';

type OpenApi = { paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } }>> };

t.test('the documented request bodies refuse what the gateway refuses', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-request-bodies', runner: false });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as OpenApi;
  const ajv = new Ajv2020({ strict: false });
  const schemaOf = (path: string, mediaType: string) => ajv.compile(doc.paths[path].post.requestBody.content[mediaType].schema);

  await t.test('POST /v1/token: the parameters, as a form and as JSON', async (t) => {
    const bodies: Record<string, string>[] = [
      {},
      { client_id: 'so-tttt-qlvb' },
      { grant_type: '' },
      { grant_type: 'client_credentials' },
      { grant_type: 'client_credentials', client_id: 'no-such-client' },
      { grant_type: 'password' },
    ];
    for (const [mediaType, encode] of [
      ['application/x-www-form-urlencoded', (b: Record<string, string>) => new URLSearchParams(b).toString()],
      ['application/json', (b: Record<string, string>) => JSON.stringify(b)],
    ] as const) {
      const valid = schemaOf('/v1/token', mediaType);
      for (const body of bodies) {
        const response = await fetch(`${bus.gateway.url}/v1/token`, { method: 'POST', headers: { 'content-type': mediaType }, body: encode(body) });
        const answer = (await response.json()) as { error?: string; error_description?: string };
        const what = `${mediaType} ${JSON.stringify(body)}: ${response.status} ${answer.error}`;
        // Malformed is invalid_request; a grant type the endpoint does not issue (unsupported_grant_type)
        // or an unknown client (invalid_client) is a well-formed request refused.
        t.equal(valid(body), !(response.status === 400 && answer.error === 'invalid_request'), `${what}: the document ${valid(body) ? 'takes' : 'refuses'} it`);
        if (!body.grant_type) t.equal(answer.error_description, 'grant_type must be client_credentials', `${what}: the refusal says what to send, as before`);
      }
    }
  });

  await t.test('POST /v1/attachments: the bytes, under any type', async (t) => {
    const sender = bus.client('so-tttt-qlvb');
    const token = await sender.accessToken();
    for (const mediaType of ['application/octet-stream', '*/*']) {
      const valid = schemaOf('/v1/attachments', mediaType);
      for (const bytes of ['', '%PDF-1.4\n%%EOF\n']) {
        const response = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': mediaType === '*/*' ? 'application/pdf' : mediaType }, body: bytes });
        const answer = (await response.json()) as { code?: string };
        t.ok(response.status === 201 || response.status === 400, `${mediaType} ${bytes.length} bytes: ${response.status} ${answer.code ?? ''}`);
        t.equal(valid(bytes), response.status === 201, `${mediaType} ${bytes.length} bytes: the document ${valid(bytes) ? 'takes' : 'refuses'} it, the gateway answers ${response.status}`);
      }
    }
  });
});
