// A POST that takes no body (an inbox ack, a connector restart) sent with `Content-Type:
// application/json` and nothing after it — what HTTP stacks that set the type on every POST send;
// OkHttp cannot POST without a body and is given an empty JSON one — was refused 400
// MALFORMED_JSON "Body cannot be empty". There is nothing to parse: such a request is handled. A
// route that takes a body still refuses an empty one.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('an empty JSON body to a route that takes none is no body, not malformed JSON', async (t) => {
  const bus = await startTestBus(t, { name: 'empty-json-body' });
  const emptyJson = (token: string) => ({ method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

  const agency = await bus.client('vp-ubnd-qlvb').accessToken();
  const ack = await fetch(`${bus.gateway.url}/v1/inbox/01a2458e-0000-7000-8000-000000000000/ack`, emptyJson(agency));
  t.equal(ack.status, 404, 'an ack is answered for its item');
  t.match(await ack.json(), { code: 'INBOX_ITEM_NOT_FOUND' });

  const operator = await bus.client('lgsp-operator').accessToken();
  const restart = await fetch(`${bus.runner!.url}/v1/connectors/relay/restart`, emptyJson(operator));
  t.equal(restart.status, 202, 'a connector restart is carried out');
  t.match(await restart.json(), { name: 'relay', connector: { state: 'RUNNING' } });

  const sender = await bus.client('so-tttt-qlvb').accessToken();
  const submission = await fetch(`${bus.gateway.url}/v1/messages`, emptyJson(sender));
  t.equal(submission.status, 400, 'a route that takes a body still needs one');
  t.match(await submission.json(), { code: 'MALFORMED_JSON' });
  const garbage = await fetch(`${bus.gateway.url}/v1/inbox/01a2458e-0000-7000-8000-000000000000/ack`, { ...emptyJson(agency), body: '{x' });
  t.equal(garbage.status, 400, 'a body that is there is still read, and refused when it is not JSON');
});
