// A JSON body declared `Content-Type: application/json; charset=us-ascii` (what Python client
// libraries may send) was refused 415, as if it were Latin-1. US-ASCII is a subset of UTF-8, and
// JSON's \uXXXX escapes carry any other character: such a body is taken (`us-ascii` or `ascii`,
// any case, quoted or not). A body declared ASCII with a byte above 0x7F is refused 400
// MALFORMED_JSON naming the charset, not read as UTF-8 behind its declaration; every other
// charset but UTF-8 is still 415.
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';

t.test('JSON declared US-ASCII is UTF-8 enough; a byte above 0x7F in it is refused by name', async (t) => {
  const bus = await startTestBus(t, { name: 'json-ascii', runner: false });
  const auth = { authorization: `Bearer ${await bus.client('so-tttt-qlvb').accessToken()}` };
  const post = (type: string, body: string | Uint8Array) => fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const notice = (subject: string) => ({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject, body: 'x' } });
  // Python's json.dumps writes ASCII by default: "Họp" as "H\u1ecdp".
  const ascii = JSON.stringify(notice('Họp')).replace(/[^\p{ASCII}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  t.notOk(/[^\p{ASCII}]/u.test(ascii), 'the body is ASCII');

  for (const type of ['application/json; charset=us-ascii', 'application/json; charset=US-ASCII', 'application/json;charset="ascii"', 'application/json; charset=ASCII']) {
    const res = await post(type, ascii);
    t.equal(res.status, 202, `${type}: taken`);
  }

  for (const [what, body] of [
    ['UTF-8 bytes', Buffer.from(JSON.stringify(notice('Họp')), 'utf8')],
    ['Latin-1 bytes', Buffer.from(JSON.stringify(notice('Café')), 'latin1')],
  ] as const) {
    const res = await post('application/json; charset=us-ascii', body);
    t.equal(res.status, 400, `${what} under charset=us-ascii are refused`);
    t.match(res.headers.get('content-type'), /^application\/problem\+json/);
    const problem = (await res.json()) as { code: string; detail: string };
    t.match(problem, { code: 'MALFORMED_JSON', detail: /charset=us-ascii.*not ASCII/ }, `naming the charset (${problem.detail})`);
  }

  const latin1 = await post('application/json; charset=iso-8859-1', ascii);
  t.equal(latin1.status, 415, 'another charset is still refused');
  t.match(await latin1.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /charset=iso-8859-1/ });
  const ebcdic = await post('application/json; charset=us-ascii-ish', ascii);
  t.equal(ebcdic.status, 415, 'only the names of ASCII count');
});
