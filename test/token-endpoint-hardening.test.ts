// The token endpoint cannot be used to stall the gateway or flood the audit: secrets are checked
// off the event loop with bounded concurrency, a per-address limit answers before the body is
// read, XML is not parsed there, and refusals are audited as counts.
import t from 'tap';
import { hashSecret, SecretCheckBusy, SecretVerifier } from '../services/platform/secret-hash.js';
import { topicsFor } from '../services/platform/topics.js';
import { eventually, startTestBus } from './helpers/test-bus.js';
import { readTopic } from './helpers/topic-reader.js';

const wrongBasic = (clientId: string) => `Basic ${Buffer.from(`${clientId}:not-the-secret`).toString('base64')}`;

t.test('secret hashes: malformed or empty digests never accept, checks are bounded', async (t) => {
  const verifier = new SecretVerifier(1, 0);
  const stored = hashSecret('right');
  t.equal(await verifier.verify('right', stored), true, 'the right secret');
  t.equal(await verifier.verify('wrong', stored), false, 'a wrong secret');
  const salt = stored.split('$')[1];
  for (const digest of ['!!!!', '=', '%%', 'AAAA']) {
    t.equal(await verifier.verify('', `scrypt$${salt}$${digest}`), false, `digest "${digest}" decodes to (almost) nothing: refused`);
    t.equal(await verifier.verify('anything', `scrypt$${salt}$${digest}`), false);
  }
  t.equal(await verifier.verify('right', `${stored}$extra`), false, 'extra fields');
  // One running, none may wait: the second concurrent check is told to come back.
  const first = verifier.verify('wrong', stored);
  await t.rejects(verifier.verify('wrong', stored), SecretCheckBusy);
  t.equal(await first, false);
});

t.test('a wrong-secret flood does not stall the gateway; refusals are audited as counts', async (t) => {
  const bus = await startTestBus(t, { name: 'tokenflood', runner: false, config: { tokenRateLimitPerMinute: 100_000, refusalAuditIntervalMs: 3000 } });
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const legacy = 'so-khdt-qlvb';
  const FLOOD = 32;
  const floodStarted = Date.now();
  let answered = 0;
  const flood = Array.from({ length: FLOOD }, () =>
    fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: wrongBasic(legacy) }, body: 'grant_type=client_credentials' }).then((r) => {
      answered++;
      return r.status;
    }),
  );
  // Let every flood request reach the gateway, then ask for /healthz behind them.
  await new Promise((r) => setTimeout(r, 100));
  const health = await fetch(`${bus.gateway.url}/healthz`);
  const answeredBeforeHealth = answered;
  t.equal(health.status, 200);
  t.ok(answeredBeforeHealth < FLOOD / 2, `/healthz answered while secret checks were still queued (${answeredBeforeHealth}/${FLOOD} refusals done)`);
  const statuses = await Promise.all(flood);
  const floodMs = Date.now() - floodStarted;
  t.same([...new Set(statuses)], [401], 'every wrong secret is refused');

  // Not one audit entry per refusal: one row for this client and address with the count.
  const tokenRefusals = async () =>
    (await readTopic(bus.config.kafkaBrokers, topicsFor(bus.config.topicPrefix).events, 1, 5000))
      .map((r) => JSON.parse(r.value))
      .filter((e) => e.event === 'rejected' && e.detail?.stage === 'token');
  const sum = (events: { detail: { count: number } }[]) => events.reduce((n, e) => n + e.detail.count, 0);
  const token = await eventually(async () => {
    const events = await tokenRefusals();
    return sum(events) >= FLOOD ? events : null;
  }, 30_000, 500).catch(() => tokenRefusals());
  const counted = sum(token);
  t.equal(counted, FLOOD, 'the counts add up to the refusals');
  // At most one entry per 3 s interval the flood spanned (scrypt runs one at a time here).
  t.ok(token.length < FLOOD / 2 && token.length <= Math.ceil(floodMs / 3000) + 1, `${token.length} audit entries for ${FLOOD} refusals over ${floodMs} ms`);
  t.match(token[0].detail, { clientId: legacy, address: '127.0.0.1', reasons: { 'Invalid client credentials': Number } });
});

t.test('the token endpoint: per-address limit before the body, no XML parsing', async (t) => {
  const bus = await startTestBus(t, { name: 'tokenlimit', runner: false, config: { tokenRateLimitPerMinute: 3, maxBodyBytes: 4096 } });
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const xml = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>' });
  t.equal(xml.status, 415, 'XML is not a token request body');
  t.match(await xml.json(), { code: 'UNSUPPORTED_MEDIA_TYPE' });
  for (let i = 0; i < 2; i++) {
    const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    t.equal(r.status, 401);
  }
  // Over the limit, a body far beyond the size limit is not even read: 429, not 413.
  const limited = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&pad=${'x'.repeat(100_000)}` });
  t.equal(limited.status, 429);
  t.match(limited.headers.get('content-type'), /problem\+json/);
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After');
  // Other routes are not limited by the token endpoint's counter.
  t.equal((await fetch(`${bus.gateway.url}/.well-known/jwks.json`)).status, 200);
});

t.test('an unknown client id is refused as slowly as a wrong secret, in the same words', async (t) => {
  const bus = await startTestBus(t, { name: 'tokentiming', runner: false, config: { tokenRateLimitPerMinute: 100_000 } });
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const ask = async (clientId: string) => {
    const started = process.hrtime.bigint();
    const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: wrongBasic(clientId) }, body: 'grant_type=client_credentials' });
    const body = await r.json();
    return { status: r.status, body, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // Alternating, so a slower moment of the machine falls on both.
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 7; i++) {
    const u = await ask(`no-such-system-${i}`);
    const w = await ask('so-khdt-qlvb');
    t.same([u.status, u.body], [401, { error: 'invalid_client', error_description: 'Invalid client credentials' }], 'unknown id: the same refusal');
    t.same([w.status, w.body], [401, { error: 'invalid_client', error_description: 'Invalid client credentials' }], 'wrong secret');
    unknown.push(u.ms);
    wrong.push(w.ms);
  }
  // Without the decoy an unknown id answered in about 1 ms against scrypt's tens of ms.
  t.ok(median(unknown) >= 0.4 * median(wrong), `median refusal: unknown id ${median(unknown).toFixed(1)} ms, wrong secret ${median(wrong).toFixed(1)} ms`);
});

// The shared 415 told a token request to send application/json ("JSON endpoints take
// application/json"), when OAuth clients send a form; a multipart body (Postman's "form-data") is
// the usual slip and is told how to send the same fields.
t.test('a token request body of another type is told the token endpoint takes a form', async (t) => {
  const bus = await startTestBus(t, { name: 'tokenmedia', runner: false });
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const form = new FormData();
  form.set('grant_type', 'client_credentials');
  const multipart = await fetch(tokenUrl, { method: 'POST', body: form });
  t.equal(multipart.status, 415);
  t.match(multipart.headers.get('content-type'), /application\/problem\+json/);
  const problem = await multipart.json();
  t.match(problem, { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /^POST \/v1\/token takes its parameters as a form, application\/x-www-form-urlencoded .*this body is multipart\/form-data: send the same fields URL-encoded/ });
  const text = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'grant_type=client_credentials' });
  t.equal(text.status, 415);
  const textProblem = await text.json();
  t.match(textProblem.detail, /this body is text\/plain$/);
  t.notMatch(textProblem.detail, /JSON endpoints/, 'not the JSON endpoints\' advice');
});

t.test('a form body garbled on the way is refused for how it was sent, not for what it became', async (t) => {
  const bus = await startTestBus(t, { name: 'tokenform', runner: false });
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const post = async (body: string | Buffer, contentType = 'application/x-www-form-urlencoded') => {
    const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': contentType }, body: body as BodyInit });
    return { status: r.status, body: (await r.json()) as { error?: string; error_description?: string; code?: string } };
  };
  const brokenEscape = await post('grant_type=client_credentials%ZZ');
  t.equal(brokenEscape.status, 400, 'a broken percent-escape: 400');
  t.match(brokenEscape.body, { error: 'invalid_request', error_description: /malformed percent-escape at character 29 \("%ZZ"\): write a literal % as %25/ });
  const notUtf8 = await post('grant_type=client_credentials&client_assertion=%ff%fe');
  t.match(notUtf8, { status: 400, body: { error: 'invalid_request', error_description: /"%ff%fe" does not decode to UTF-8/ } }, 'escaped bytes that are not UTF-8');
  const rawLatin1 = await post(Buffer.from('grant_type=client_credentials&client_id=s\xf4', 'latin1'));
  t.match(rawLatin1, { status: 400, body: { error: 'invalid_request', error_description: /not valid UTF-8/ } }, 'raw bytes that are not UTF-8');
  const latin1 = await post('grant_type=client_credentials', 'application/x-www-form-urlencoded; charset=latin1');
  t.match(latin1, { status: 415, body: { error: 'invalid_request', code: 'UNSUPPORTED_MEDIA_TYPE', error_description: /charset=latin1/ } }, 'another charset declared: 415');
  // What a well-formed form still means: + is a space, a repeated parameter is refused, UTF-8 escapes decode.
  t.match(await post('grant_type=client_credentials&grant_type=client_credentials'), { status: 400, body: { error: 'invalid_request', error_description: 'grant_type must be given once, as a single string value' } });
  t.match(await post('grant_type=client%5Fcredentials&scope=+'), { status: 401, body: { error: 'invalid_client' } }, 'escapes decode, a scope of one space is empty: on to client authentication');
  t.match(await post('grant_type=client_credentials', 'application/x-www-form-urlencoded; charset=UTF-8'), { status: 401, body: { error: 'invalid_client' } }, 'UTF-8 declared: read');
});
