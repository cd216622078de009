// Requests Node's HTTP parser refuses before any route sees them are answered as problem+json
// (Fastify's default answered its own JSON shape), then the connection closes.
import t from 'tap';
import Fastify from 'fastify';
import { parseAnswer, rawExchange } from './helpers/raw-http.js';
import { clientErrors } from '../services/platform/client-errors.js';

/** What came back on a new connection, once the server closed it (at most `waitMs`). */
async function exchange(port: number, raw: string, waitMs = 2000): Promise<string> {
  return (await rawExchange(port, raw, waitMs)).answer;
}

const parse = parseAnswer;

t.test('HTTP parser refusals are problem+json', async (t) => {
  const app = Fastify({ clientErrorHandler: clientErrors, requestTimeout: 500, http: { connectionsCheckingInterval: 100 } });
  app.get('/', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;

  const huge = parse(await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
  t.equal(huge.status, 431, 'headers over 16 KiB');
  t.match(huge.headers, /content-type: application\/problem\+json/);
  t.match(huge.headers, /connection: close/);
  t.match(huge.headers, /cache-control: no-store\r\nx-content-type-options: nosniff\r\nx-frame-options: deny\r\ncontent-security-policy: default-src 'none'; frame-ancestors 'none'\r\nreferrer-policy: no-referrer\r\n/, 'the headers every answer carries');
  t.match(huge.body, { status: 431, code: 'HEADERS_TOO_LARGE', type: /headers-too-large$/, title: String, detail: /exceed the 16384 bytes this service accepts/ });

  const smuggled = parse(await exchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
  t.equal(smuggled.status, 400, 'Content-Length beside Transfer-Encoding');
  t.match(smuggled.body, { status: 400, code: 'BAD_REQUEST', detail: /^The request is not valid HTTP\/1\.1/ });

  const badHeader = parse(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Bad\u0001: 1\r\n\r\n'));
  t.equal(badHeader.status, 400, 'a control character in a header name');
  t.match(badHeader.body, { code: 'BAD_REQUEST', detail: /^The request is not valid HTTP\/1\.1: Invalid header/ });

  const slow = parse(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n', 10_000));
  t.equal(slow.status, 408, 'headers not complete within requestTimeout');
  t.match(slow.body, { code: 'REQUEST_TIMEOUT' });

  const fine = await fetch(`http://127.0.0.1:${port}/`);
  t.equal(fine.status, 200, 'the service goes on answering');
});

t.test('bytes that are not HTTP after a complete request: its answer first, then the refusal', async (t) => {
  // A handler that takes a while, as a submission does (its produce to Kafka): the junk after its
  // body is parsed while it runs. Refusing at once used to answer the accepted request with the
  // 400 and close, so the caller read "refused" for a message the bus had accepted.
  const handled: unknown[] = [];
  const app = Fastify({ clientErrorHandler: clientErrors });
  app.post('/', async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    handled.push(req.body);
    return { accepted: req.body };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;

  // "Thông báo" is 9 characters and 12 bytes: a client counting characters declares a body 3
  // bytes short, and the last 3 bytes reach the parser as the start of a next request.
  const body = JSON.stringify({ subject: 'Thông báo' });
  const post = (text: string, length: number) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${text}`;
  const answer = await exchange(port, post(body, Buffer.byteLength(body)) + 'GARBAGE\r\n\r\n', 10_000);
  const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  t.same(statuses, [200, 400], 'the handled request is answered, then the junk is refused');
  t.match(answer, /\{"accepted":\{"subject":"Thông báo"\}\}HTTP\/1\.1 400/, 'the answer the handler gave, in full, before the refusal');
  t.match(answer, /"code":"BAD_REQUEST"/);
  t.match(answer, /Content-Length count the bytes/, 'the refusal names the likely cause');

  const pipelined = await exchange(port, post('{"n":1}', 7) + post('{"n":2}', 7) + 'GARBAGE\r\n\r\n', 10_000);
  t.same([...pipelined.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), [200, 200, 400], 'pipelined requests before the junk: every answer, in order');
  t.match(pipelined, /\{"accepted":\{"n":1\}\}.*\{"accepted":\{"n":2\}\}/s);

  // An error inside a request (its own body) has no answer of its own coming: refused at once.
  const broken = parse(await exchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 10_000));
  t.equal(broken.status, 400, 'a malformed chunk size');
  t.match(broken.body, { code: 'BAD_REQUEST', detail: 'The request is not valid HTTP/1.1: Invalid character in chunk size' });
  t.equal(handled.length, 3, 'every complete request was handled once');
});
