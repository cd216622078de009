// What a problem shows of what the caller sent. It lists at most 100 field errors and keeps its
// detail to 4,000 characters: a 1 MB body of 60,000 unknown properties was answered with every
// one of them, in `errors` and again in `detail`, a 6.6 MB problem+json built on the gateway's
// event loop. And it writes controls and bidirectional formatting characters it echoes as
// `\u202E`: an id of "\u202Ecba" in a path was shown as "No message abc".
import t from 'tap';
import { startTestBus } from './helpers/test-bus.js';
import { MAX_DETAIL_CHARS, ProblemError } from '../services/platform/problem.js';

t.test('a body with thousands of faults gets the first hundred, and how many there were', async (t) => {
  const bus = await startTestBus(t, { name: 'validation-cap', runner: false });
  const token = await bus.client('so-tttt-qlvb').accessToken();
  const unknown = Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, 1]));
  const send = (body: unknown) =>
    fetch(`${bus.gateway.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  for (const [what, body, total] of [
    ['in the payload', { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'cap-1', payload: { subject: 'Họp', body: 'Kính gửi', ...unknown } }, 60_000],
    ['in the request', { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'cap-2', payload: { subject: 'Họp', body: 'Kính gửi' }, ...unknown }, 60_000],
  ] as const) {
    const res = await send(body);
    const text = await res.text();
    t.equal(res.status, 400, `${what}: 400`);
    t.match(res.headers.get('content-type'), /^application\/problem\+json/, `${what}: problem+json`);
    t.ok(text.length < 20_000, `${what}: the answer is ${text.length} characters, not megabytes`);
    const problem = JSON.parse(text);
    t.equal(problem.code, 'VALIDATION_FAILED');
    t.equal(problem.errors.length, 100, `${what}: the first 100 errors are listed`);
    t.match(problem.errors[0], { message: 'unknown property "k0"' }, `${what}: from the start`);
    t.ok(problem.detail.length <= MAX_DETAIL_CHARS, `${what}: the detail is cut to ${MAX_DETAIL_CHARS} characters`);
    t.match(problem.detail, new RegExp(`\\(${total} errors in all; the first 100 are listed\\)$`), `${what}: the detail says how many there were`);
  }

  // Echoed ids and names: controls and bidirectional formatting are written out, not shown.
  const spoofed = await fetch(`${bus.gateway.url}/v1/messages/%E2%80%AEcba%0D%0Ax`, { headers: { authorization: `Bearer ${token}` } });
  const spoofedProblem = await spoofed.json();
  t.equal(spoofed.status, 404, 'an id with U+202E, CR and LF: 404');
  t.match(spoofedProblem.detail, /\\u202Ecba\\u000D\\u000Ax/, 'the detail writes them as \\u202E, \\u000D and \\u000A');
  t.notMatch(spoofedProblem.detail, /[\u202E\r\n]/, 'and holds none of them');
  const named = await send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'cap-4', payload: { subject: 'Họp', body: 'Kính gửi', ['\u202Eevil']: 1 } });
  const namedProblem = await named.json();
  t.match(namedProblem.errors, [{ field: 'payload.\\u202Eevil', message: 'unknown property "\\u202Eevil"' }], 'field errors too');

  // A few faults are all listed, with the detail whole, as before.
  const few = await send({ type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, correlationId: 'cap-3', payload: { subject: 'Họp', body: 'Kính gửi', a: 1, b: 2 } });
  const fewProblem = await few.json();
  t.equal(fewProblem.errors.length, 2, 'two unknown properties: both listed');
  t.notMatch(fewProblem.detail, /errors in all/, 'and no count added');
});

t.test('a detail is never cut inside a surrogate pair, and writes out what it does not show', async (t) => {
  const detail = `${'a'.repeat(MAX_DETAIL_CHARS - 2)}😀${'b'.repeat(10)}`;
  const cut = new ProblemError(400, 'BAD_REQUEST', 'Bad request', detail).detail;
  t.ok(cut.length <= MAX_DETAIL_CHARS);
  t.ok(cut.endsWith('a…'), 'cut before the emoji, not in its middle');
  t.equal(new ProblemError(400, 'BAD_REQUEST', 'Bad request', 'short').detail, 'short', 'a short detail is kept whole');
  t.equal(new ProblemError(404, 'MESSAGE_NOT_FOUND', 'Not found', 'No message \u2066a\u0000b\u009B').detail, 'No message \\u2066a\\u0000b\\u009B');
  t.equal(new ProblemError(400, 'BAD_REQUEST', 'Bad request', 'Văn bản số 125/QĐ-UBND: 😀').detail, 'Văn bản số 125/QĐ-UBND: 😀', 'letters, marks and emoji as they are');
});
