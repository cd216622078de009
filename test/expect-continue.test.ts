// `Expect: 100-continue`: a refusal that needs no body is the answer instead of "100 Continue"
// (Node sent the 100 as soon as the headers arrived, inviting a 50 MB body it would then refuse,
// or a body without a token); the 100 goes out when the route reads the body. An expectation
// other than 100-continue is 417 problem+json (Node's had no body).
import t from 'tap';
import { connect } from 'node:net';
import { startTestBus } from './helpers/test-bus.js';

/**
 * Sends the head, and the body only after a "100 Continue" (as curl and .NET clients do); returns
 * all that came back and whether the server closed the connection.
 */
function expectContinue(port: number, head: string, body: string): Promise<{ answer: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let closed = false;
    let sent = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
      if (!sent && answer.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        sent = true;
        socket.write(body);
      }
    });
    socket.on('close', () => (closed = true));
    socket.on('error', reject);
    socket.write(head);
    setTimeout(() => {
      socket.destroy();
      resolve({ answer, closed });
    }, 1500);
  });
}

t.test('Expect: 100-continue is answered by the refusal when one is due', async (t) => {
  const bus = await startTestBus(t, { name: 'expect-continue', runner: false, config: { maxBodyBytes: 4096 } });
  const port = Number(new URL(bus.gateway.url).port);
  const token = await bus.client('so-tttt-qlvb').accessToken();
  const notice = JSON.stringify({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp', body: 'Nội dung' } });
  const head = (headers: string, length: number, path = '/v1/messages') =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n${headers}Content-Length: ${length}\r\n\r\n`;
  const auth = `Authorization: Bearer ${token}\r\n`;

  const huge = await expectContinue(port, head(auth, 50_000_000), '');
  t.match(huge.answer, /^HTTP\/1\.1 413 /, 'an announced body over the limit: 413, no 100 first');
  t.match(huge.answer, /"code":"PAYLOAD_TOO_LARGE"/);
  t.ok(huge.closed, 'and the connection closes (a body may follow)');

  const anonymous = await expectContinue(port, head('', Buffer.byteLength(notice)), notice);
  t.match(anonymous.answer, /^HTTP\/1\.1 401 /, 'no token: 401, no 100 first');
  t.notMatch(anonymous.answer, /100 Continue/);
  t.ok(anonymous.closed, 'the connection closes: the body the client may still send is never read as a request');

  const wrongType = await expectContinue(port, head(auth, 5).replace('application/json', 'text/csv'), 'a,b,c');
  t.match(wrongType.answer, /^HTTP\/1\.1 415 /, 'a media type the route does not take: 415, no 100 first');

  const noRoute = await expectContinue(port, head(auth, 2, '/v1/nothing'), '{}');
  // Fastify's not-found route parses a body like any route (bounded by the body limit), so the
  // 100 may come first here: the answer is the 404 either way.
  t.match(noRoute.answer, /HTTP\/1\.1 404 /, 'no such route: 404');

  const good = await expectContinue(port, head(auth, Buffer.byteLength(notice)), notice);
  t.match(good.answer, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 /, 'a request that may go on: 100, then the body, then 202');

  const other = await expectContinue(port, head(auth, Buffer.byteLength(notice)).replace('100-continue', 'teapot'), notice);
  t.match(other.answer, /^HTTP\/1\.1 417 /, 'another expectation: 417');
  t.match(other.answer, /content-type: application\/problem\+json/i);
  t.match(other.answer, /"code":"EXPECTATION_FAILED"/);
});
