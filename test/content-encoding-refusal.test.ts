// No service decodes a compressed request body: a Content-Encoding other than identity is 415
// before the body is read (problem-handler.ts). RFC 9110 §15.5.16 (and §12.5.3): a 415 caused by
// the content coding ought to say, in Accept-Encoding, the codings that would have been taken —
// here only identity — so a client that compresses by default (RFC 7694) can send again uncompressed
// without a person reading the detail.
import t from 'tap';
import Fastify from 'fastify';
import { gzipSync } from 'node:zlib';
import { problemHandler } from '../services/platform/problem-handler.js';

t.test('a gzip-encoded body is refused 415 with Accept-Encoding: identity; an unknown type is not told about encodings', async (t) => {
  const app = Fastify();
  await app.register(problemHandler, { maxBodyBytes: 1024 });
  app.post('/v1/messages', async (req) => ({ got: req.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/messages`;

  const gzipped = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"a":1}') });
  t.equal(gzipped.status, 415);
  t.match(gzipped.headers.get('content-type'), /^application\/problem\+json/);
  t.equal(gzipped.headers.get('accept-encoding'), 'identity', 'the 415 names the codings taken');
  t.match(await gzipped.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /Content-Encoding gzip/ });

  const plain = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  t.equal(plain.status, 200, 'uncompressed, it passes');

  const wrongType = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
  t.equal(wrongType.status, 415);
  t.equal(wrongType.headers.get('accept-encoding'), null, 'a 415 for the media type says nothing of codings');
});
