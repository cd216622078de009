// What a client generated from the gateway's OpenAPI document lets an agency send. The route
// schemas say `payload: {type: object}` and check the payload against its type's schema in the
// handler; a generator reading that (openapi-typescript for openapi-fetch) typed the payload as an
// object with no members, so the README's notice did not compile without a cast and no client
// was told which payload a type takes. The documented submission bodies pair each `type` with its
// payload's component schema: every example of every type is a valid body, a payload of another
// type or with a misspelt member is not. Validated with Ajv2020 against the served document, as a
// client-side validator or generator reads it.
import t from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startTestBus } from './helpers/test-bus.js';

type Schema = Record<string, unknown> & { examples?: unknown[]; 'x-lgsp-connector'?: string; 'x-lgsp-reply-of'?: string; 'x-lgsp-reply-schema'?: string };

t.test('the documented submission bodies type each payload by its message type', async (t) => {
  const bus = await startTestBus(t, { name: 'openapi-typed-payloads', runner: false });
  const doc = (await (await fetch(`${bus.gateway.url}/openapi.json`)).json()) as { components: { schemas: Record<string, Schema> } };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(doc, 'doc');
  const body = (path: string) => ajv.compile({ $ref: `doc#/paths/${path.replace(/\//g, '~1')}/post/requestBody/content/application~1json/schema` });
  const messages = body('/v1/messages');
  const requests = body('/v1/requests');

  // A message type's component names its connector; its shared definitions (`dossier.sync-status`) and replies are not bodies.
  const types = Object.entries(doc.components.schemas).filter(([, s]) => s['x-lgsp-connector'] && !s['x-lgsp-reply-of']);
  t.ok(types.length >= 7, `message types in the document (${types.map(([name]) => name).join(', ')})`);
  const to = { member: '000.00.15.H49' };
  for (const [type, schema] of types) {
    const validate = schema['x-lgsp-reply-schema'] ? requests : messages;
    t.ok((schema.examples ?? []).length > 0, `${type} has examples`);
    for (const [i, example] of (schema.examples ?? []).entries()) {
      t.ok(validate({ type, to, payload: example }), `${type} example ${i}: a valid body (${JSON.stringify(validate.errors?.slice(0, 2))})`);
    }
  }

  const notice = doc.components.schemas['notice.send'].examples![0] as Record<string, unknown>;
  t.ok(messages({ type: 'notice.send', to, payload: notice }), 'the README\'s notice is a valid body');
  t.notOk(messages({ type: 'notice.send', to, payload: { subjectt: 'Thông báo', body: 'Kính gửi' } }), 'a notice with a misspelt member is not');
  t.notOk(messages({ type: 'notice.send', to, payload: doc.components.schemas['edoc.send'].examples![0] }), 'nor a notice carrying a document\'s payload');
  t.notOk(messages({ type: 'dossier.lookup', to, payload: doc.components.schemas['dossier.lookup'].examples![0] }), 'a request/reply type is not a POST /v1/messages body');
  t.notOk(requests({ type: 'dossier.lookup', to, payload: {} }), 'a lookup without its dossier code is not a POST /v1/requests body');
  t.notOk(messages({ type: 'notice.send', to, payload: notice, extra: 1 }), 'members the submission does not have stay refused');

  // The document only: the gateway still says what is wrong itself, in its own words.
  const client = bus.client('so-tttt-qlvb');
  const unknown = await client.send({ type: 'nope.unknown', to: { member: '000.00.15.H49' }, payload: {} });
  t.equal(unknown.status, 400, 'an unknown type is still refused by the route');
  t.equal(unknown.body.code, 'UNKNOWN_MESSAGE_TYPE', 'with its own code, not a schema mismatch');
  const sent = await client.send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: notice });
  t.equal(sent.status, 202, 'and a notice is accepted as before');
});
