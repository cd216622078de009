// Java's HttpURLConnection, told setDoOutput(true) as a generic "POST these bytes" helper does,
// sends `Content-Type: application/x-www-form-urlencoded` and `Content-Length: 0` for a POST
// with nothing to send — an inbox ack — as curl -X POST -d '' does. The ack, which takes no
// body, was refused 415 UNSUPPORTED_MEDIA_TYPE ("send the body in a media type this endpoint
// takes"), while the same empty body declared application/json was taken (empty-json-body): an
// empty body is no body whatever type it is declared. It is handled now; a route that takes a
// body still refuses a type it does not take, and a bodiless route a body that is there.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('an empty body under a form Content-Type, to a route that takes none, is no body', async (t) => {
  const bus = await startTestBus(t, { name: 'empty-form-body' });
  // The exact headers HttpURLConnection sends (besides its User-Agent, Accept and Host).
  const emptyForm = (token: string, body = '') => ({ method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) }, body });

  const agency = await bus.client('vp-ubnd-qlvb').accessToken();
  const ack = await fetch(`${bus.gateway.url}/v1/inbox/01a2458e-0000-7000-8000-000000000000/ack`, emptyForm(agency));
  t.equal(ack.status, 404, 'an ack is answered for its item');
  t.match(await ack.json(), { code: 'INBOX_ITEM_NOT_FOUND' });

  const operator = await bus.client('lgsp-operator').accessToken();
  const restart = await fetch(`${bus.runner!.url}/v1/connectors/relay/restart`, emptyForm(operator));
  t.equal(restart.status, 202, 'a connector restart is carried out');

  const withBody = await fetch(`${bus.gateway.url}/v1/inbox/01a2458e-0000-7000-8000-000000000000/ack`, emptyForm(agency, 'a=1'));
  t.equal(withBody.status, 415, 'a form that is there is still refused');
  const submission = await fetch(`${bus.gateway.url}/v1/messages`, emptyForm(agency));
  t.equal(submission.status, 415, 'a route that takes a body still refuses the form type');
  t.match(await submission.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /POST \/v1\/messages takes application\/json/ });
});
