// The operator console's API on a real bus (gateway, runner, audit service, console, real
// Kafka): login and roles, message search and trace, dead-letter replay (single, bulk, refused
// for forged records), KPI reports from edoc/dossier events, CSV export, proxies to the audit
// service and the runner, registry without secrets, metrics, and problem+json for bad input.
import t from 'tap';
import { createEnvelope } from '../services/platform/envelope.js';
import { BatchingProducer } from '../services/platform/kafka-transport.js';
import { testKafka } from './helpers/test-kafka.js';
import { eventRecords, messageEvent } from '../services/platform/bus-events.js';
import { topicsFor } from '../services/platform/topics.js';
import { startAuditService } from '../services/audit/audit-service.js';
import { startConsole } from '../services/console/console-service.js';
import { startTestBus, eventually, tokenEntryOf } from './helpers/test-bus.js';
import { issueAccessToken } from '../services/platform/access-token.js';

const notice = (subject: string, member: string) => ({
  type: 'notice.send',
  to: { member, service: 'notice' },
  payload: { subject, body: 'Nội dung thông báo thử nghiệm' },
});

t.test('operator console API', async (t) => {
  const bus = await startTestBus(t, { name: 'console-api' });
  const audit = await startAuditService(bus.config);
  t.teardown(() => audit.stop());
  const consoleSvc = await startConsole(bus.config, {
    upstream: { gateway: bus.gateway.url, audit: audit.url, runner: bus.runner!.url },
    lagIntervalMs: 300,
  });
  t.teardown(() => consoleSvc.stop());
  const base = consoleSvc.url;
  const topics = topicsFor(bus.config.topicPrefix);
  const sender = bus.client('so-tttt-qlvb');

  const login = async (clientId: string, secret = bus.clients.get(clientId)!.clientSecret) =>
    fetch(`${base}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId, clientSecret: secret }),
    });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0];

  const opRes = await login('lgsp-operator');
  t.equal(opRes.status, 200, 'operator logs in');
  t.match(opRes.headers.get('set-cookie'), /HttpOnly; SameSite=Strict/);
  const operator = cookieOf(opRes);
  const observer = cookieOf(await login('lgsp-observer'));
  const call = async (cookie: string, method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { cookie, ...(method !== 'GET' ? { 'x-lgsp-console': '1' } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, text, body: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : null };
  };
  const get = (path: string, cookie = operator) => call(cookie, 'GET', path);

  await t.test('login refuses wrong secrets, agency clients and malformed bodies', async (t) => {
    const wrong = await login('lgsp-operator', 'not-the-secret');
    t.equal(wrong.status, 401);
    t.match(wrong.headers.get('content-type'), /application\/problem\+json/);
    t.equal((await wrong.json()).code, 'LOGIN_FAILED');
    t.notOk(wrong.headers.get('set-cookie'), 'no session on failure');
    // An agency system that signs in with a secret (a legacy one): right secret, wrong role.
    const agency = await login('so-khdt-qlvb');
    t.equal(agency.status, 403);
    t.equal((await agency.json()).code, 'ROLE_REQUIRED');
    const keyOnly = await login('so-tp-qlvb', 'any-secret');
    t.equal(keyOnly.status, 401, 'a system issued no secret cannot log in with one');
    t.equal((await keyOnly.json()).code, 'LOGIN_FAILED');
    const malformed = await fetch(`${base}/v1/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'x', extra: 1 }) });
    const problem = await malformed.json();
    t.equal(malformed.status, 400);
    t.equal(problem.code, 'VALIDATION_FAILED');
    t.ok(problem.errors.some((e: { field: string }) => e.field === 'clientSecret'), 'names the missing field');
    t.ok(problem.errors.some((e: { field: string }) => e.field === 'extra'), 'names the unknown field');
    const anon = await fetch(`${base}/v1/console/messages`);
    t.equal(anon.status, 401);
    t.equal(anon.headers.get('www-authenticate'), 'Bearer realm="lgsp"', 'a 401 names the scheme a tool can use');
    // Tools send tokens as the gateway takes them (RFC 6750 §3.1): another scheme is no
    // authentication, a Bearer header without exactly one token is malformed, a bad token is refused.
    const withHeader = (authorization: string) => fetch(`${base}/v1/console/messages`, { headers: { authorization } });
    const basic = await withHeader('Basic ' + Buffer.from('lgsp-operator:x').toString('base64'));
    t.equal(basic.status, 401, 'the Basic scheme');
    t.equal(basic.headers.get('www-authenticate'), 'Bearer realm="lgsp"');
    t.match(await basic.json(), { code: 'UNAUTHENTICATED', detail: /not the Basic scheme/ });
    for (const header of ['Bearer', 'Bearer a b', 'Bearer a,b']) {
      const malformed = await withHeader(header);
      t.equal(malformed.status, 400, `"${header}" is malformed`);
      t.equal(malformed.headers.get('www-authenticate'), 'Bearer realm="lgsp", error="invalid_request"');
      t.match(await malformed.json(), { code: 'BAD_REQUEST' });
    }
    // Two Authorization lines (Node would keep the first alone): malformed too, whichever is valid.
    const observerToken = await bus.client('lgsp-observer').accessToken();
    const { request } = await import('node:http');
    const two = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/v1/console/messages`, { headers: ['host', new URL(base).host, 'authorization', `Bearer ${observerToken}`, 'authorization', 'Bearer not.a.token'] }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    t.equal(two.status, 400, 'two Authorization headers');
    t.match(JSON.parse(two.body), { code: 'BAD_REQUEST', detail: /Authorization header once/ });
    const refused = await withHeader('Bearer not.a.token');
    t.equal(refused.status, 401, 'a token that is not one');
    t.equal(refused.headers.get('www-authenticate'), 'Bearer realm="lgsp", error="invalid_token"');
    t.match(await refused.json(), { code: 'INVALID_TOKEN', detail: /request a new access token \(POST \/v1\/token/ }, 'a script sending a Bearer token is told to get a new one, not to log in');
    t.same(await (await fetch(`${base}/v1/console/session`)).json(), { authenticated: false });
    t.match((await get('/v1/console/session', observer)).body, { authenticated: true, clientId: 'lgsp-observer', roles: ['observer'] });
  });

  await t.test('a delivered message is searchable and its trace shows every hop with timings', async (t) => {
    const sent = await sender.send({ ...notice('Giao ban tuần', '000.00.15.H49'), correlationId: 'CV-123/STTTT' });
    t.equal(sent.status, 202);
    const id = sent.body.id as string;
    const found = await eventually(async () => {
      const r = await get(`/v1/console/messages?q=${id}`);
      return r.body.items[0]?.status === 'delivered' ? r.body.items[0] : null;
    });
    t.match(found, { id, type: 'notice.send', fromMember: '000.00.12.H49', toMember: '000.00.15.H49', toService: 'notice', connector: 'relay' });
    const byCorrelation = await get(`/v1/console/messages?q=${encodeURIComponent('CV-123/STTTT')}`);
    t.equal(byCorrelation.body.items[0].id, id, 'the search box also takes a correlation id');
    // UUIDs are case-insensitive (RFC 9562): an id pasted from a log that prints it in upper case.
    const upper = id.toUpperCase();
    t.same((await get(`/v1/console/messages?q=${upper}`)).body.items.map((m: { id: string }) => m.id), [id], 'the search box takes an id in upper case');
    t.same((await get(`/v1/console/messages?id=${upper}`)).body.items.map((m: { id: string }) => m.id), [id], 'so does the id filter');
    t.equal((await get(`/v1/console/messages/${upper}`)).body.message?.id, id, 'and the trace');
    const byFilters = await get(`/v1/console/messages?member=000.00.15.H49&type=notice.*&status=delivered`);
    t.ok(byFilters.body.items.some((m: { id: string }) => m.id === id), 'member + family + status filters');
    const notYet = await get(`/v1/console/messages?member=000.00.15.H49&type=notice.*&status=accepted`);
    t.notOk(notYet.body.items.some((m: { id: string }) => m.id === id), 'status is the transport status: a delivered message is not "accepted"');
    const none = await get(`/v1/console/messages?member=000.00.15.H49&from=2001-01-01&to=2001-01-02`);
    t.equal(none.body.items.length, 0, 'a time range outside the traffic finds nothing');
    // Paging: nextBefore of one page is the cursor of the next, and no message comes twice.
    await sender.send(notice('Lịch công tác tuần', '000.00.15.H49'));
    await eventually(async () => (await get('/v1/console/messages?limit=1')).body.nextBefore !== null);
    const first = await get('/v1/console/messages?limit=1');
    t.match(first.body.nextBefore, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z\|/, 'a cursor to the older page');
    const second = await get(`/v1/console/messages?limit=1&before=${encodeURIComponent(first.body.nextBefore)}`);
    t.equal(second.status, 200);
    t.equal(second.body.items.length, 1);
    t.not(second.body.items[0].id, first.body.items[0].id, 'the older page holds another message');
    t.ok(second.body.items[0].lastEventAt <= first.body.items[0].lastEventAt, 'older or as old');
    for (const cursor of ['yesterday|x', '2026-12-03|x', `${first.body.items[0].id}`]) {
      const bad = await get(`/v1/console/messages?before=${encodeURIComponent(cursor)}`);
      t.equal(bad.status, 400, `cursor ${cursor} is refused, not read as a text bound`);
      t.ok(bad.body.errors.some((e: { field: string }) => e.field === 'querystring.before'), 'names the field');
    }
    const trace = await get(`/v1/console/messages/${id}`);
    t.same(trace.body.hops.map((h: { event: string }) => h.event), ['accepted', 'delivered']);
    t.same(trace.body.hops.map((h: { hop: string }) => h.hop), ['gateway', 'runner/relay']);
    t.equal(trace.body.hops[0].sinceAcceptedMs, 0);
    t.ok(trace.body.hops[1].sinceAcceptedMs >= 0 && trace.body.totalMs === trace.body.hops[1].sinceAcceptedMs, 'timings from acceptance');
    const missing = await get('/v1/console/messages/01900000-0000-7000-8000-000000000000');
    t.equal(missing.status, 404);
    t.equal(missing.body.code, 'MESSAGE_NOT_FOUND');
  });

  await t.test('Vietnamese search input finds the message whether it is typed in NFC or NFD', async (t) => {
    const correlationId = 'Báo cáo tuần/Sở Tư pháp';
    const sent = await sender.send({ ...notice('Báo cáo tuần', '000.00.15.H49'), correlationId });
    t.equal(sent.status, 202);
    const id = sent.body.id as string;
    await eventually(async () => ((await get(`/v1/console/messages?q=${encodeURIComponent(correlationId)}`)).body.items[0]?.id === id ? id : null));
    const nfd = correlationId.normalize('NFD');
    t.not(nfd, correlationId, 'the query really is decomposed');
    t.equal((await get(`/v1/console/messages?q=${encodeURIComponent(nfd)}`)).body.items[0]?.id, id, 'the search box');
    t.same((await get(`/v1/console/messages?correlationId=${encodeURIComponent(nfd)}`)).body.items.map((m: { id: string }) => m.id), [id], 'the correlation id filter');
  });

  await t.test('bad search input is a problem naming the field', async (t) => {
    const impossible = await get('/v1/console/messages?from=2026-02-30');
    t.equal(impossible.status, 400);
    t.match(impossible.type, /problem\+json/);
    t.same(impossible.body.errors, [{ field: 'querystring.from', message: 'is not a date on the calendar or a time of day' }]);
    const businessCode = await get('/v1/console/messages?status=06');
    t.equal(businessCode.status, 200, 'a business status code in status is still a search (read as businessStatus)');
    t.ok(businessCode.body.items.every((m: { businessStatus: string | null }) => m.businessStatus === '06' || m.businessStatus === '6'), 'finding only that business status');
    for (const form of ['6', 'returned', '10', 'dead_lettered']) t.equal((await get(`/v1/console/messages?status=${form}`)).status, 200, `status=${form} is still a search`);
    // A misspelt status used to be read as a business status nobody reports: an empty list.
    const typo = await get('/v1/console/messages?status=bogus');
    t.equal(typo.status, 400, 'a status that is neither a transport nor a known business status is refused');
    t.match(typo.type, /problem\+json/);
    t.match(typo.body.detail, /status "bogus" is neither a transport status \(accepted, delivered, failed, dead_lettered\) nor a known business status: an edXML status code \(01, .*16\), a TrangThaiHoSo code \(1, .*10\) or a dossier status name \(registered, .*returned\)/);
    t.same(typo.body.errors, [{ field: 'querystring.status', message: 'must be one of accepted, delivered, failed, dead_lettered, or a business status code' }]);
    // An unknown event name on the audit search, likewise.
    const badEvent = await get('/v1/console/audit/events?event=delivred');
    t.equal(badEvent.status, 400, 'an unknown audit event name is refused');
    t.match(badEvent.type, /problem\+json/);
    t.match(JSON.stringify(badEvent.body.errors), /must be one of .*delivered.*delivery_failed.*dead_lettered.*operator_action/);
    const unknown = await get('/v1/console/messages?colour=red');
    t.equal(unknown.status, 400);
    t.ok(unknown.body.errors.some((e: { field: string }) => e.field === 'querystring.colour'));
    const zoneless = await get('/v1/console/dead-letters?from=2026-01-01T10:00');
    t.equal(zoneless.status, 400);
    const backwards = await get('/v1/console/kpi?from=2026-02-01&to=2026-01-01');
    t.equal(backwards.status, 400);
    t.equal(backwards.body.errors[0].field, 'querystring.to');
    // The detail names each query parameter once, as the gateway's validation errors name their
    // fields: "Invalid querystring: querystring.limit must be <= 500" said the part twice.
    t.equal(impossible.body.detail, 'Invalid query string: from is not a date on the calendar or a time of day');
    t.equal(backwards.body.detail, 'Invalid query string: to must be after from');
    const tooMany = await get('/v1/console/messages?limit=501');
    // The whole range and the default, not only the bound that was broken.
    t.same([tooMany.status, tooMany.body.errors], [400, [{ field: 'querystring.limit', message: 'must be a whole number from 1 to 500 (default 50)' }]]);
    t.equal(tooMany.body.detail, 'Invalid query string: limit must be a whole number from 1 to 500 (default 50)');
    const none = await get('/v1/console/messages?limit=0');
    t.same([none.status, none.body.errors], [400, [{ field: 'querystring.limit', message: 'must be a whole number from 1 to 500 (default 50)' }]], 'a limit below the range is told the range too');
    t.equal(unknown.body.detail, 'Invalid query string: colour unknown property "colour"');
    const overflow = await get('/v1/console/messages?limit=1e400');
    t.equal(overflow.body.detail, 'Invalid query string: limit must be a finite number');
    // The KPI report takes whole days: a bad bound says the form, not the regular expression.
    for (const value of ['yesterday', '01/02/2026', '2026-02-01T00:00:00+07:00']) {
      const bad = await get(`/v1/console/kpi?from=${encodeURIComponent(value)}&to=2026-03-01`);
      t.equal(bad.status, 400, `kpi from=${value}`);
      t.same(bad.body.errors, [{ field: 'querystring.from', message: 'must be an ISO 8601 date, YYYY-MM-DD (e.g. 2026-12-03), without a time' }], `kpi from=${value}: the form expected`);
      t.equal(bad.body.detail, 'Invalid query string: from must be an ISO 8601 date, YYYY-MM-DD (e.g. 2026-12-03), without a time');
    }
  });

  await t.test('a dead letter is replayed once by an operator, audited, then delivered', async (t) => {
    bus.simulator.modes.set('so-khdt-qlvb', { mode: 'reject' });
    const sent = await sender.send(notice('Bị từ chối', '000.00.24.H49'));
    const id = sent.body.id as string;
    const dl = await eventually(async () => (await get(`/v1/console/dead-letters?messageId=${id}`)).body.items[0]);
    t.same((await get(`/v1/console/dead-letters?messageId=${id.toUpperCase()}`)).body.items.map((d: { id: number }) => d.id), [dl.id], 'a message id in upper case finds its dead letter');
    t.match(dl, { connector: 'relay', messageId: id, verified: true, type: 'notice.send', fromMember: '000.00.12.H49', toMember: '000.00.24.H49', attempts: 1, replayedAt: null });
    t.match(dl.reason, /422/);
    t.notOk('value' in dl || 'data' in dl, 'the payload itself is not shown');
    // The dead letter and the dead_lettered event come from different topics: each is indexed
    // as its own batch arrives.
    t.equal(await eventually(async () => ((await get(`/v1/console/messages/${id}`)).body.message?.status === 'dead_lettered' ? 'dead_lettered' : null)), 'dead_lettered');

    const byObserver = await call(observer, 'POST', `/v1/console/dead-letters/${dl.id}/replay`);
    t.equal(byObserver.status, 403);
    t.equal(byObserver.body.code, 'ROLE_REQUIRED', 'observers cannot replay');
    const noHeader = await fetch(`${base}/v1/console/dead-letters/${dl.id}/replay`, { method: 'POST', headers: { cookie: operator } });
    t.equal(noHeader.status, 403);
    t.equal((await noHeader.json()).code, 'CONSOLE_HEADER_REQUIRED', 'cookie requests that change state need the console header');
    // Another origin of the same site gets the SameSite=Strict cookie too: a page there may not
    // make the operator's browser export (audited, costly) or act, even with a simple GET.
    for (const site of ['same-site', 'cross-site']) {
      const fromElsewhere = await call(operator, 'GET', `/v1/console/kpi.csv?from=2026-12-01&to=2026-12-02`, undefined, { 'sec-fetch-site': site });
      t.equal(fromElsewhere.status, 403, `a cookie request from ${site} is refused`);
      t.equal(fromElsewhere.body.code, 'CROSS_SITE_REQUEST');
    }
    for (const site of ['same-origin', 'none']) {
      t.equal((await call(operator, 'GET', '/v1/console/dead-letters?limit=1', undefined, { 'sec-fetch-site': site })).status, 200, `the console's own page (${site}) is not`);
    }

    bus.simulator.modes.set('so-khdt-qlvb', { mode: 'ok' });
    const replay = await call(operator, 'POST', `/v1/console/dead-letters/${dl.id}/replay`);
    t.equal(replay.status, 202);
    t.match(replay.body, { id: dl.id, messageId: id, status: 'replayed', originTopic: topics.message('notice') });
    const again = await call(operator, 'POST', `/v1/console/dead-letters/${dl.id}/replay`);
    t.equal(again.status, 409);
    t.equal(again.body.code, 'ALREADY_REPLAYED');

    const trace = await eventually(async () => {
      const r = await get(`/v1/console/messages/${id}`);
      return r.body.message.status === 'delivered' ? r.body : null;
    });
    const events = trace.hops.map((h: { event: string }) => h.event);
    t.same(events.slice(-2), ['replayed', 'delivered'], 'replayed, then delivered');
    t.equal(trace.hops.find((h: { event: string }) => h.event === 'replayed').hop, 'console/lgsp-operator');
    t.equal((bus.simulator.received.get('so-khdt-qlvb') ?? []).filter((m) => m.id === id).length, 1, 'delivered exactly once');
    t.ok(await eventually(async () => (await sender.status(id)).body.status === 'delivered'), 'the gateway agrees');

    const trail = await eventually(async () => {
      const r = await get(`/v1/console/audit/events?event=operator_action`);
      return r.body.entries.some((e: { event: { detail: { action: string; deadLetterId?: number } } }) => e.event.detail.action === 'replay' && e.event.detail.deadLetterId === dl.id) ? r.body : null;
    });
    t.ok(trail, 'the replay is an operator_action in the audit trail');
    const replayedEntry = await eventually(async () => (await get(`/v1/console/audit/events?messageId=${id}&event=replayed`)).body.entries[0]);
    t.equal(replayedEntry.event.actor, 'console/lgsp-operator');
    // Bare dates are days in Vietnam on the audit search as on the console's other searches (the
    // audit API itself reads them as UTC): today → tomorrow, Vietnam's, holds what just happened.
    const vnDay = (offsetDays: number) => new Date(Date.now() + 7 * 3600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
    const today = await get(`/v1/console/audit/events?messageId=${id}&event=replayed&from=${vnDay(0)}&to=${vnDay(1)}`);
    t.same(today.body.entries.map((e: { seq: number }) => e.seq), [replayedEntry.seq], 'a Vietnamese day holds the entry at any hour');
    const zoned = await get(`/v1/console/audit/events?messageId=${id}&event=replayed&to=${encodeURIComponent(`${vnDay(0)}T00:00:00+07:00`)}`);
    const bare = await get(`/v1/console/audit/events?messageId=${id}&event=replayed&to=${vnDay(0)}`);
    t.same(bare.body, zoned.body, 'a bare date is midnight in Vietnam');
    const impossible = await get('/v1/console/audit/events?from=2026-02-31');
    t.same([impossible.status, impossible.body.errors], [400, [{ field: 'querystring.from', message: 'is not a date on the calendar or a time of day' }]]);

    // The audit chains each intent before what follows from it: the replay before its 'replayed'
    // event, the refused second replay before its failure (it once came after it).
    type Entry = { seq: number; event: { id: string; detail: { action: string; deadLetterId?: number; outcome?: string; intent?: string } } };
    const actions = await eventually(async () => {
      const entries = (await get('/v1/console/audit/events?event=operator_action&limit=200')).body.entries as Entry[];
      const mine = entries.filter((e) => e.event.detail.action === 'replay' && (e.event.detail.deadLetterId === dl.id || e.event.detail.intent));
      return mine.some((e) => e.event.detail.outcome === 'failed') ? mine : null;
    });
    const failure = actions.find((e) => e.event.detail.outcome === 'failed')!;
    const failedIntent = actions.find((e) => e.event.id === failure.event.detail.intent);
    t.ok(failedIntent, 'the failure names its intent');
    t.ok(failedIntent!.seq < failure.seq, `intent #${failedIntent!.seq} before its failure #${failure.seq}`);
    const firstIntent = actions.filter((e) => !e.event.detail.outcome).sort((a, b) => a.seq - b.seq)[0];
    t.ok(firstIntent.seq < replayedEntry.seq, `the replay's intent #${firstIntent.seq} before the replayed event #${replayedEntry.seq}`);
  });

  await t.test('records the runner refused cannot be replayed', async (t) => {
    const kafka = testKafka('forger');
    const producer = kafka.producer();
    await producer.connect();
    const forged = createEnvelope({ type: 'notice.send', from: { member: '000.00.00.H49', system: 'vp-ubnd-qlvb' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 'giả mạo', body: 'x' } });
    await producer.send({ topic: topics.message('notice'), acks: -1, messages: [{ value: JSON.stringify(forged), headers: { 'lgsp-id': forged.id } }] });
    await producer.disconnect();
    const dl = await eventually(async () => (await get('/v1/console/dead-letters?reason=not%20signed')).body.items[0]);
    t.equal(dl.verified, false);
    t.equal(dl.messageId, null, 'an unverified record claims no message id');
    t.equal(dl.type, null, 'nor any routing');
    const replay = await call(operator, 'POST', `/v1/console/dead-letters/${dl.id}/replay`);
    t.equal(replay.status, 409);
    t.equal(replay.body.code, 'NOT_REPLAYABLE');
    const unknown = await call(operator, 'POST', '/v1/console/dead-letters/999999/replay');
    t.equal(unknown.status, 404);
    const overflowId = await call(operator, 'POST', '/v1/console/dead-letters/1e400/replay');
    t.equal(overflowId.status, 400, 'an id past any number is a validation error, not a database one');
    t.match(overflowId.body, { code: 'VALIDATION_FAILED', errors: [{ field: 'params.id', message: 'must be a finite number' }] });

    // Paging: every dead letter once, newest failure first, page after page.
    const all = (await get('/v1/console/dead-letters?limit=500')).body;
    t.ok(all.items.length >= 2, 'at least two dead letters by now');
    t.equal(all.nextBefore, null, 'one page holds them all');
    const seen: number[] = [];
    let page = (await get('/v1/console/dead-letters?limit=1')).body;
    for (let i = 0; i < 50; i++) {
      seen.push(...page.items.map((d: { id: number }) => d.id));
      if (page.nextBefore === null) break;
      t.equal(page.nextBefore, page.items[0].id, 'the cursor is the last item');
      page = (await get(`/v1/console/dead-letters?limit=1&before=${page.nextBefore}`)).body;
    }
    t.same(seen, all.items.map((d: { id: number }) => d.id), 'pages of one give the same list in the same order');
    for (const query of ['before=1e400', 'limit=Infinity']) {
      const overflow = await get(`/v1/console/dead-letters?${query}`);
      t.equal(overflow.status, 400, `${query}: a number past any number is a validation error, not a database one`);
      t.match(overflow.body, { code: 'VALIDATION_FAILED', errors: [{ field: `querystring.${query.split('=')[0]}`, message: 'must be a finite number' }] });
    }
    t.equal((await get('/v1/console/messages?limit=1e400')).status, 400, 'the message list too');
    t.equal(unknown.body.code, 'DEAD_LETTER_NOT_FOUND');
  });

  await t.test('bulk replay by filter replays every matching dead letter', async (t) => {
    bus.simulator.modes.set('xa-hoaphuoc-qlvb', { mode: 'reject' });
    const ids: string[] = [];
    for (const s of ['Một', 'Hai']) ids.push((await sender.send(notice(s, 'H49.242.10'))).body.id);
    await eventually(async () => (await get('/v1/console/dead-letters?member=H49.242.10&replayed=false')).body.items.length === 2);
    bus.simulator.modes.set('xa-hoaphuoc-qlvb', { mode: 'ok' });
    const bad = await call(operator, 'POST', '/v1/console/dead-letters/replay', { member: 'H49.242.10', max: 100000 });
    t.equal(bad.status, 400, 'a bulk replay is bounded');
    const badBound = await call(operator, 'POST', '/v1/console/dead-letters/replay', { member: 'H49.242.10', from: '2026-02-31' });
    t.equal(badBound.status, 400, 'an impossible date in the filter');
    t.match(badBound.body, { code: 'VALIDATION_FAILED', errors: [{ field: 'body.from' }] }, 'named as the body field it is');
    const dry = await call(operator, 'POST', '/v1/console/dead-letters/replay', { member: 'H49.242.10', connector: 'relay', dryRun: true });
    t.same([dry.status, dry.body], [200, { wouldReplay: 2, replayable: 2, notReplayable: 0 }], 'a dry run counts and replays nothing');
    t.equal((await get('/v1/console/dead-letters?member=H49.242.10&replayed=false')).body.items.length, 2);
    // The forged record of the previous test matches no member; unfiltered, it is counted apart
    // and never taken by a bulk replay (taken oldest first, it would be taken again every time).
    const everything = await call(operator, 'POST', '/v1/console/dead-letters/replay', { dryRun: true });
    t.ok(everything.body.notReplayable >= 1, `the forged record counted as not replayable (${JSON.stringify(everything.body)})`);
    const forgedOnly = await call(operator, 'POST', '/v1/console/dead-letters/replay', { reason: 'not signed' });
    t.same([forgedOnly.status, forgedOnly.body.matched, forgedOnly.body.replayed, forgedOnly.body.skipped], [202, 0, [], []], 'a bulk replay does not take what can never be replayed');
    const bulk = await call(operator, 'POST', '/v1/console/dead-letters/replay', { member: 'H49.242.10', connector: 'relay' });
    t.equal(bulk.status, 202);
    t.equal(bulk.body.matched, 2);
    t.same(bulk.body.replayed.map((r: { messageId: string }) => r.messageId).sort(), [...ids].sort());
    await eventually(() => ids.every((id) => (bus.simulator.received.get('xa-hoaphuoc-qlvb') ?? []).some((m) => m.id === id)));
    t.equal((await get('/v1/console/dead-letters?member=H49.242.10&replayed=false')).body.items.length, 0, 'nothing left to replay');
    const bare = await fetch(`${base}/v1/console/dead-letters/replay`, { method: 'POST', headers: { cookie: operator, 'x-lgsp-console': '1' } });
    t.equal(bare.status, 202, 'no body at all is the empty filter');

    // Each message's own replay intent (naming the bulk one) is chained before its 'replayed' event.
    type Entry = { seq: number; event: { id: string; detail: { action: string; messageId?: string; bulkReplay?: string; matched?: number } } };
    for (const id of ids) {
      const intentEntry = await eventually(async () => {
        const entries = (await get('/v1/console/audit/events?event=operator_action&limit=200')).body.entries as Entry[];
        return entries.find((e) => e.event.detail.action === 'replay' && e.event.detail.messageId === id);
      });
      const bulkEntry = await eventually(async () => ((await get('/v1/console/audit/events?event=operator_action&limit=200')).body.entries as Entry[]).find((e) => e.event.id === intentEntry.event.detail.bulkReplay));
      t.equal(bulkEntry.event.detail.action, 'bulk_replay', 'the per-message intent names the bulk replay');
      const replayedEntry = await eventually(async () => (await get(`/v1/console/audit/events?messageId=${id}&event=replayed`)).body.entries[0]);
      t.ok(intentEntry.seq < replayedEntry.seq, `intent #${intentEntry.seq} before replayed #${replayedEntry.seq}`);
    }
  });

  await t.test('KPIs per agency from edoc and dossier events, zero when a family has no traffic', async (t) => {
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const prev = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
    const nobody = await get('/v1/console/kpi?from=2001-01-01&to=2001-02-01&member=000.00.99.H49');
    t.same([nobody.status, nobody.body.code, nobody.body.errors], [422, 'UNKNOWN_MEMBER', [{ field: 'querystring.member', message: 'not in the registry' }]], 'a member the registry does not know is said so, not an empty report');
    const empty = await get(`/v1/console/kpi?from=2001-01-01&to=2001-02-01`);
    t.match(empty.body.total, { documents: { sent: 0, electronicRate: null, statuses: {} }, dossiers: { dossiers: 0, onTimeRate: null, syncRate: null } });
    t.same(empty.body.agencies, []);

    // Document and dossier traffic as their connectors publish it: generic bus events only.
    const kafka = testKafka('kpi-test');
    const eventsKey = await bus.keys.signing('runner', 'record');
    const producer = new BatchingProducer(kafka, () => eventsKey, { lingerMs: 1, maxBatch: 100, ttlSeconds: 600 });
    await producer.connect();
    const qlvb = (from: string, to: string, type: string, correlationId: string) =>
      createEnvelope({ type, from: { member: from, system: 'qlvb' }, to: { member: to, service: 'edoc' }, correlationId, data: {} });
    const doc1 = qlvb('000.00.12.H49', '000.00.15.H49', 'edoc.send', '000.00.12.H49,2026/01/05,12/STTTT');
    const doc2 = qlvb('000.00.12.H49', '000.00.24.H49', 'edoc.send', '000.00.12.H49,2026/01/05,13/STTTT');
    const doc3 = qlvb('000.00.15.H49', '000.00.12.H49', 'edoc.send', '000.00.15.H49,2026/01/05,7/STP');
    const status1 = qlvb('000.00.15.H49', '000.00.12.H49', 'edoc.status', doc1.correlationId);
    const motcua = (type: string, dossier: string) =>
      createEnvelope({ type, from: { member: '000.00.00.H49', system: 'motcua' }, to: { member: '000.00.00.G22', service: 'dvcqg' }, correlationId: dossier, data: {} });
    const syncA = motcua('dossier.sync', 'H49.01-260105-0001');
    const progA = motcua('dossier.progress', 'H49.01-260105-0001');
    const syncB = motcua('dossier.sync', 'H49.01-260105-0002');
    const syncC = motcua('dossier.sync', 'H49.01-260105-0003');
    const lookup = motcua('dossier.lookup', 'H49.01-260105-0004');
    const ev = (name: Parameters<typeof messageEvent>[0], env: ReturnType<typeof createEnvelope>, detail?: Record<string, unknown>) => messageEvent(name, env, 'test', detail);
    const events = [
      ev('accepted', doc1), ev('delivered', doc1),
      ev('accepted', doc2), ev('delivered', doc2), ev('status', doc2, { statusCode: '3' }),
      ev('accepted', doc3), ev('dead_lettered', doc3, { reason: 'gave up' }),
      ev('accepted', status1), ev('delivered', status1, { statusCode: '06' }),
      ev('accepted', syncA), ev('delivered', syncA), ev('status', syncA, { TrangThaiHoSo: 4, NgayHenTra: '20260110170000' }),
      ev('accepted', progA), ev('delivered', progA), ev('status', progA, { status: 'returned', dueAt: '2026-01-10T17:00:00+07:00', returnedAt: '2026-01-09T10:00:00+07:00' }),
      ev('accepted', syncB), ev('delivered', syncB), ev('status', syncB, { TrangThaiHoSo: 10, onTime: false }),
      ev('accepted', syncC), ev('delivery_failed', syncC, { attempt: 1, reason: '503' }),
      ev('accepted', lookup), ev('delivered', lookup),
    ];
    // Distinct times, in order, so "latest status" is well defined.
    const t0 = Date.now() - 60_000;
    events.forEach((e, i) => (e.at = new Date(t0 + i * 10).toISOString()));
    await producer.send(events.flatMap((e) => eventRecords(topics, e)).filter((r) => r.topic === topics.events));
    await producer.disconnect();

    const report = await eventually(async () => {
      const r = await get(`/v1/console/kpi?from=${prev}&to=${next}`);
      return r.body.total.dossiers.dossiers === 3 && r.body.total.documents.sent === 3 ? r.body : null;
    });
    t.same(report.total.documents, {
      sent: 3, delivered: 2, failed: 1, received: 3, electronicRate: 0.6667,
      statuses: { '06': 1, '03': 1, dead_lettered: 1 },
    }, 'documents: the status packet sets doc1 to completed; doc2 reports received; doc3 failed');
    t.same(report.total.dossiers, {
      dossiers: 3, synced: 2, syncRate: 0.6667, onTime: 1, late: 1, onTimeRate: 0.5,
      statuses: { '10': 2, failed: 1 },
    }, 'dossiers: lookups excluded, latest status (TrangThaiHoSo or the bus\'s status name), on time from due/return dates or onTime');
    const stttt = report.agencies.find((a: { member: string }) => a.member === '000.00.12.H49');
    t.match(stttt, { name: 'Sở Thông tin và Truyền thông (dữ liệu mẫu)', documents: { sent: 2, delivered: 2, electronicRate: 1, received: 1 } });
    t.equal(report.statusLabels.documents['06'].vi, 'Hoàn thành');
    const one = await get(`/v1/console/kpi?from=${prev}&to=${next}&member=000.00.12.H49`);
    t.same(one.body.agencies.map((a: { member: string }) => a.member), ['000.00.12.H49'], 'one agency');
    t.equal(one.body.member, '000.00.12.H49');
    t.same(one.body.total, { documents: one.body.agencies[0].documents, dossiers: one.body.agencies[0].dossiers }, "the total follows the filter: that agency's figures");
    t.match(one.body.total, { documents: { sent: 2, received: 1 }, dossiers: { dossiers: 0 } });
    const oneCsv = (await get(`/v1/console/kpi.csv?from=${prev}&to=${next}&member=000.00.12.H49&lang=vi`)).text.replace(/^\uFEFF/, '').trim().split('\r\n');
    t.match(oneCsv.at(-1), /^,Tổng của 000\.00\.12\.H49,[^,]+,[^,]+,2,2,0,1,100\.0,/, 'the CSV total row is the agency\'s, and says so');

    const csv = await get(`/v1/console/kpi.csv?from=${prev}&to=${next}&lang=vi`);
    t.equal(csv.status, 200);
    t.match(csv.type, /^text\/csv; charset=utf-8/);
    t.match(csv.headers.get('content-disposition'), new RegExp(`attachment; filename="lgsp-kpi-${prev}_${next}.csv"`));
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    const raw = Buffer.from(await (await fetch(`${base}/v1/console/kpi.csv?from=${prev}&to=${next}`, { headers: { cookie: operator } })).arrayBuffer());
    t.same([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for spreadsheet programs');
    t.match(lines[0], /^Mã cơ quan,Tên cơ quan,Từ ngày/);
    t.match(lines.find((l) => l.startsWith('000.00.12.H49')), /^000\.00\.12\.H49,Sở Thông tin và Truyền thông \(dữ liệu mẫu\),[^,]+,[^,]+,2,2,0,1,100\.0,/);
    t.match(lines.at(-1), /^,Toàn tỉnh,[^,]+,[^,]+,3,2,1,3,66\.7,/);
    // A column per status, so a spreadsheet sums them: one completed document in the province.
    const cells = (line: string) => line.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((cell) => cell.replace(/^"|"$/g, ''));
    const completed = cells(lines[0]).indexOf('Văn bản: Hoàn thành (06)');
    t.ok(completed > 0, 'a column for status 06');
    t.equal(cells(lines.at(-1)!)[completed], '1', 'its count in the total row');
    t.equal(lines[0].normalize('NFC'), lines[0], 'NFC');
    const en = await get(`/v1/console/kpi.csv?from=${day}&to=${next}&lang=en`);
    t.match(en.text, /Agency code,Agency name/);
    const exportAudited = await eventually(async () =>
      (await get('/v1/console/audit/events?event=operator_action')).body.entries.find((e: { event: { detail: { action: string } } }) => e.event.detail.action === 'kpi_export'));
    t.ok(exportAudited, 'CSV exports are audited');
  });

  await t.test('connectors: status with lag and dead-letter depth; pause and resume are operator-only', async (t) => {
    const list = await eventually(async () => {
      const r = await get('/v1/console/connectors');
      return r.body?.[0]?.lag !== null && r.body?.[0]?.lag !== undefined ? r.body : null;
    });
    t.match(list[0], { name: 'relay', connector: { state: 'RUNNING' }, lag: Number, deadLetters: Number });
    t.equal((await call(observer, 'PUT', '/v1/console/connectors/relay/pause')).status, 403);
    t.equal((await call(operator, 'PUT', '/v1/console/connectors/relay/pause')).status, 202);
    t.equal((await get('/v1/console/connectors')).body[0].connector.state, 'PAUSED');
    t.equal((await call(operator, 'PUT', '/v1/console/connectors/relay/resume')).status, 202);
    t.equal((await get('/v1/console/connectors')).body[0].connector.state, 'RUNNING');
    const unknown = await call(operator, 'PUT', '/v1/console/connectors/nope/pause');
    t.equal(unknown.status, 404);
    t.equal(unknown.body.code, 'UNKNOWN_CONNECTOR', 'the runner\'s problem passes through');
    t.equal(unknown.body.instance, '/v1/console/connectors/nope/pause', 'naming the console URL the operator called');
    const actions = await eventually(async () => {
      const entries = (await get('/v1/console/audit/events?event=operator_action')).body.entries as { event: { detail: { action: string; connector?: string } } }[];
      const names = entries.map((e) => e.event.detail.action);
      return names.includes('connector_pause') && names.includes('connector_resume') ? names : null;
    });
    t.ok(actions.includes('login'), 'logins are audited too');
    // The console's intent is chained before the runner's record of carrying it out.
    const pauses = await eventually(async () => {
      const entries = (await get('/v1/console/audit/events?event=operator_action&limit=500')).body.entries as { seq: number; event: { actor: string; detail: { action: string; connector?: string } } }[];
      const of = (who: string) => entries.find((e) => e.event.detail.action === 'connector_pause' && e.event.detail.connector === 'relay' && e.event.actor.startsWith(who));
      return of('console/') && of('runner/') ? { console: of('console/')!.seq, runner: of('runner/')!.seq } : null;
    });
    t.ok(pauses.console < pauses.runner, `intent at seq ${pauses.console}, the runner's pause at ${pauses.runner}`);
  });

  await t.test('audit integrity, registry without secrets, metrics', async (t) => {
    const integrity = await eventually(async () => {
      const r = await get('/v1/console/audit/integrity');
      return r.body.lastCheckpoint ? r.body : null;
    });
    t.equal(integrity.verification.ok, true);
    t.ok(integrity.head.seq > 10);
    t.type(integrity.checkpointAgeSeconds, 'number');
    const registry = await get('/v1/console/registry', observer);
    t.equal(registry.status, 200);
    t.ok(registry.body.members.length >= 6);
    t.match(registry.body.systems.find((s: { clientId: string }) => s.clientId === 'so-khdt-qlvb'), { authMethods: ['private_key_jwt', 'client_secret_basic'] });
    t.same(registry.body.systems.find((s: { clientId: string }) => s.clientId === 'so-tttt-qlvb').authMethods, ['private_key_jwt'], 'a system the seeds give no secret signs in with its key only');
    t.notMatch(registry.text, /secretHash|privateJwk|"jwks"|"d":/, 'no keys or secret hashes');
    t.ok(registry.body.accessRights.some((a: { client: string; service: string }) => a.client === 'so-tttt-qlvb' && a.service === 'leadership-notice'));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    t.match(metrics, /lgsp_dlq_depth\{connector="relay",service="console"\} 1/, 'the forged record is the one dead letter left');
    t.match(metrics, /lgsp_consumer_lag\{group="relay",kind="connector",service="console"\} \d+/);
    t.match(metrics, /lgsp_console_replays_total\{service="console"\} 3/);
    const gatewayMetrics = await (await fetch(`${bus.gateway.url}/metrics`)).text();
    t.match(gatewayMetrics, /lgsp_kafka_produced_records_total\{service="gateway"\} [1-9]/, 'the gateway reports what it produced');
    t.notMatch(gatewayMetrics, /lgsp_kafka_consumed_records_total/, 'the gateway consumes nothing');
    t.match(gatewayMetrics, /lgsp_kafka_requests_total\{api="Produce",service="gateway"\} [1-9]/, 'Kafka requests are counted by API');
    const runnerMetrics = await (await fetch(`${bus.runner!.url}/metrics`)).text();
    t.match(runnerMetrics, /lgsp_kafka_consumed_records_total\{consumer="ledger",service="runner"\} [1-9]/, 'the ledger in the runner reports what it consumed');
    t.match(runnerMetrics, /lgsp_kafka_produced_records_total\{service="runner"\} [1-9]/);
    t.match(runnerMetrics, /lgsp_kafka_requests_total\{api="Fetch",service="runner"\} [1-9]/);
    t.match(gatewayMetrics, /lgsp_db_statements_total\{pool="shared",service="gateway"\} [1-9]/, 'PostgreSQL statements are counted by pool');
    t.match(runnerMetrics, /lgsp_db_statements_total\{pool="ledger",service="runner"\} [1-9]/, 'the ledger has a pool of its own');
    for (const counter of ['lgsp_kafka_produced_records_total', 'lgsp_connector_delivered_total', 'lgsp_connector_dead_lettered_total']) {
      t.match(runnerMetrics, new RegExp(`# TYPE ${counter} counter`), `${counter} is a Prometheus counter`);
    }
    t.match(runnerMetrics, /lgsp_connector_delivered_total\{connector="relay",service="runner"\} [1-9]/);
    t.match(runnerMetrics, /# TYPE lgsp_delivery_latency_seconds histogram/, 'end-to-end delivery latency is a histogram');
    t.match(runnerMetrics, /lgsp_delivery_latency_seconds_count\{(?=[^}]*connector="relay")(?=[^}]*type="notice\.send")[^}]*\} [1-9]/, 'observed per delivered message');
    // A first attempt's time, split where it went: the stages add up to no more than the whole.
    const sumOf = (pattern: RegExp) => [...runnerMetrics.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
    for (const stage of ['gateway', 'fetch', 'queue', 'destination']) {
      t.match(runnerMetrics, new RegExp(`lgsp_delivery_stage_seconds_count\\{(?=[^}]*connector="relay")(?=[^}]*stage="${stage}")[^}]*\\} [1-9]`), `the ${stage} stage of first attempts is observed`);
    }
    const stagesSeconds = sumOf(/^lgsp_delivery_stage_seconds_sum\{(?=[^}]*connector="relay")[^}]*\} (\S+)$/gm);
    const wholeSeconds = sumOf(/^lgsp_delivery_latency_seconds_sum\{(?=[^}]*connector="relay")[^}]*\} (\S+)$/gm);
    const firstAttempts = sumOf(/^lgsp_delivery_stage_seconds_count\{(?=[^}]*connector="relay")(?=[^}]*stage="destination")[^}]*\} (\S+)$/gm);
    t.ok(stagesSeconds > 0 && stagesSeconds <= wholeSeconds + 0.002 * firstAttempts, `the stages (${stagesSeconds} s) add up to no more than end to end (${wholeSeconds} s)`);
    t.match(metrics, /# TYPE lgsp_console_consumed_total counter/);
    t.match(metrics, /lgsp_kafka_produced_records_total\{service="console"\} [1-9]/, 'replays and operator actions are produced by the console');
    const overview = await get('/v1/console/overview');
    t.ok(overview.body.indexedMessages > 5);
    t.ok(overview.body.lastMinute.accepted >= 1, 'recent traffic counts in the live figures');
  });

  await t.test('logout clears the session and is audited', async (t) => {
    const session = cookieOf(await login('lgsp-observer'));
    // The cookie is an opaque session id: worthless as a Bearer token at the gateway or audit.
    const value = session.split('=')[1];
    t.notOk(value.includes('.'), 'not a JWT');
    t.equal((await fetch(`${bus.gateway.url}/v1/services`, { headers: { authorization: `Bearer ${value}` } })).status, 401, 'refused by the gateway');
    t.equal((await fetch(`${audit.url}/v1/audit/events`, { headers: { authorization: `Bearer ${value}` } })).status, 401, 'refused by the audit service');
    // A live stream opened with the session ends with it.
    const live = await fetch(`${base}/v1/console/live`, { headers: { cookie: session } });
    t.equal(live.status, 200);
    const streamEnded = (async () => {
      const reader = live.body!.getReader();
      while (!(await reader.read()).done) { /* ticks */ }
      return true;
    })();
    const out = await call(session, 'DELETE', '/v1/console/session');
    t.equal(out.status, 204);
    t.match(out.headers.get('set-cookie'), /Max-Age=0/);
    t.equal(await Promise.race([streamEnded, new Promise((r) => setTimeout(() => r(false), 5000))]), true, 'the live stream closed at logout');
    const reused = await call(session, 'GET', '/v1/console/overview');
    t.equal(reused.status, 401, 'a copy of the cookie is dead after logout');
  });

  await t.test('input the console must not take loosely: null bulk filter, bad cookie, reversed window, empty audit filter', async (t) => {
    const nullFilter = await call(operator, 'POST', '/v1/console/dead-letters/replay', null);
    t.equal(nullFilter.status, 400, 'a body of null is not "no filter": it could replay every dead letter');
    t.match(nullFilter.body, { code: 'VALIDATION_FAILED' });
    const badCookie = await fetch(`${base}/v1/console/messages`, { headers: { cookie: 'lgsp_console_session=%ZZ' } });
    t.equal(badCookie.status, 401, 'a cookie that does not decode is no session, not a server error');
    const reversed = await get('/v1/console/messages?from=2026-12-05&to=2026-12-04');
    t.equal(reversed.status, 400);
    t.match(reversed.body, { errors: [{ field: 'querystring.to' }] });
    t.equal((await get('/v1/console/dead-letters?from=2026-12-05&to=2026-12-04')).status, 400, 'dead letters too');
    const reversedBulk = await call(operator, 'POST', '/v1/console/dead-letters/replay', { from: '2026-12-05', to: '2026-12-04', dryRun: true });
    t.equal(reversedBulk.status, 400, 'and a bulk replay filter');
    t.match(reversedBulk.body, { errors: [{ field: 'body.to' }] });
    const emptyFilter = await get('/v1/console/audit/events?event=&member=079123456789');
    t.equal(emptyFilter.status, 400, 'an empty filter reaches the audit API, which refuses it, instead of being dropped');
    t.equal(emptyFilter.body.instance, '/v1/console/audit/events', 'the relayed problem names the path, not the query');
    t.equal(reversed.headers.get('x-content-type-options'), 'nosniff', 'JSON answers are not for sniffing either');
  });

  await t.test('a JSON body of the wrong types is refused, not coerced (query strings still are)', async (t) => {
    // Fastify coerces body types by default: these passed as {dryRun: true}, {max: 5}, … and a
    // login with its client id in a list signed in.
    const wrongTypes: Record<string, unknown>[] = [{ dryRun: 'true' }, { dryRun: 1 }, { max: [5], dryRun: true }, { max: '5', dryRun: true }, { connector: ['relay'], dryRun: true }];
    for (const body of wrongTypes) {
      const res = await call(operator, 'POST', '/v1/console/dead-letters/replay', body);
      t.equal(res.status, 400, `bulk replay ${JSON.stringify(body)}`);
      t.match(res.body, { code: 'VALIDATION_FAILED', errors: [{ field: Object.keys(body)[0] }] });
    }
    // A body in another media type: the 415 says what the console takes (it has no /docs).
    const asForm = await call(operator, 'POST', '/v1/console/dead-letters/replay', { dryRun: true }, { 'content-type': 'application/x-www-form-urlencoded' });
    t.equal(asForm.status, 415);
    t.match(asForm.body, { code: 'UNSUPPORTED_MEDIA_TYPE' });
    t.match(asForm.body.detail, /^Unsupported Media Type: POST \/v1\/console\/dead-letters\/replay takes application\/json; this request's Content-Type is application\/x-www-form-urlencoded/);
    t.notMatch(asForm.body.detail, /\/docs|gateway/, 'not sent to the gateway\'s OpenAPI document');
    const listedId = await fetch(`${base}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: ['lgsp-operator'], clientSecret: bus.clients.get('lgsp-operator')!.clientSecret }),
    });
    t.equal(listedId.status, 400, 'a client id in a list is no client id');
    t.match(await listedId.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'clientId', message: 'must be string' }] });
    t.notOk(listedId.headers.get('set-cookie'), 'and no session');
    const paged = await get('/v1/console/dead-letters?limit=5');
    t.equal(paged.status, 200, 'a query string number still arrives as text and is read as one');
  });

  await t.test('a live stream opened with a Bearer token ends when the token expires', async (t) => {
    const tokenKey = await bus.keys.signing('gateway', 'token');
    const shortLived = await issueAccessToken(tokenKey, bus.config.issuer, { clientId: 'lgsp-observer', member: '000.00.00.H49', roles: ['observer'], entry: tokenEntryOf(bus.clients.get('lgsp-observer')!) }, 3);
    const opened = Date.now();
    const live = await fetch(`${base}/v1/console/live`, { headers: { authorization: `Bearer ${shortLived}` } });
    t.equal(live.status, 200);
    const reader = live.body!.getReader();
    const ended = (async () => {
      while (!(await reader.read()).done) { /* ticks */ }
      return Date.now() - opened;
    })();
    const after = await Promise.race([ended, new Promise<number>((r) => setTimeout(() => r(-1), 8000))]);
    t.ok(after >= 1500 && after < 5000, `the stream closed when the token expired (after ${after} ms)`);
  });

  // Last: it spends this address's login attempts for a minute.
  await t.test('too many login attempts: 429 whose Retry-After is the window really left', async (t) => {
    let limited: Response | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await login('lgsp-operator', 'not-the-secret');
      if (r.status === 429) limited = r;
    }
    t.ok(limited, 'refused after 20 attempts');
    const reset = Number(limited!.headers.get('x-ratelimit-reset'));
    const retryAfter = Number(limited!.headers.get('retry-after'));
    const problem = await limited!.json();
    t.match(problem, { code: 'RATE_LIMITED', status: 429 });
    t.ok(retryAfter >= 1 && Math.abs(retryAfter - reset) <= 1, `Retry-After ${retryAfter} matches the window's reset ${reset}`);
    t.match(problem.detail, new RegExp(`retry after ${retryAfter} s`));
    t.equal((await login('lgsp-observer')).status, 200, 'another operator from the same address still logs in');
  });
});
