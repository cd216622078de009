// A 415 on POST /v1/messages names every type the operation takes and the one the request had.
// "JSON endpoints take application/json" was all a QLVB vendor read who posted an edXML package
// as text/plain, or with curl --data-binary and no Content-Type (curl then sends a form type):
// nothing said that application/xml was the fix.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('a 415 names the types the operation takes and the type received', async (t) => {
  const bus = await startTestBus(t, { name: 'media-type-names', runner: false });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const post = async (path: string, contentType: string) => {
    const res = await fetch(`${bus.gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body: '<edXML/>' });
    t.equal(res.status, 415, `${contentType} to ${path}`);
    return (await res.json()).detail as string;
  };
  t.match(await post('/v1/messages', 'text/plain'), /^Unsupported Media Type: POST \/v1\/messages takes application\/json, application\/xml, text\/xml, application\/soap\+xml; this request's Content-Type is text\/plain$/);
  t.match(await post('/v1/messages', 'application/x-www-form-urlencoded'), /this request's Content-Type is application\/x-www-form-urlencoded, what curl -d and --data-binary send unless told otherwise with -H "Content-Type: …"/);
  t.match(await post('/v1/requests', 'text/plain'), /send the body in a media type this endpoint takes \(JSON endpoints take application\/json; .*this request's Content-Type is text\/plain/, 'an operation no module extends: as before, with the type received');
});
