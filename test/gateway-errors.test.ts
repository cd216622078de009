// Every bad input of DESIGN §3/§5 gets the right status and a problem+json (or OAuth2) body,
// and nothing reaches Kafka.
import t, { type Test } from 'tap';
import { SignJWT, UnsecuredJWT, importJWK, generateKeyPair } from 'jose';
import { v4 as uuidv4 } from 'uuid';
import { gzipSync } from 'node:zlib';
import { startTestBus } from './helpers/test-bus.js';
import { startSlowPost } from './helpers/slow-request.js';
import { BusClient, createClientAssertion } from '../services/platform/bus-client.js';
import { JWT_BEARER_ASSERTION } from '../services/platform/access-token.js';

const notice = { type: 'notice.send', to: { member: '000.00.15.H49', service: 'notice' }, payload: { subject: 'Họp', body: 'Nội dung' } };

t.test('gateway refuses bad input with clear errors', async (t) => {
  // A small body budget: one 4 KiB body in flight leaves no room for another (the other subtests
  // send one small body at a time).
  const bus = await startTestBus(t, { name: 'errors', runner: false, config: { maxBodyBytes: 4096, maxInflightBodyBytes: 6000 } });
  const base = bus.gateway.url;
  const tokenUrl = `${base}/v1/token`;
  const creds = bus.clients.get('so-tttt-qlvb')!;

  const tokenRequest = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });
  const withAssertion = (assertion: string) =>
    tokenRequest({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion });
  const post = (body: string | object, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const isProblem = (t: Test, r: Response) => t.match(r.headers.get('content-type'), /^application\/problem\+json/, 'problem+json');

  await t.test('token endpoint', async (t) => {
    const good = await withAssertion(await createClientAssertion(creds, base));
    t.equal(good.status, 200);
    const body = await good.json();
    t.match(body, { token_type: 'Bearer', expires_in: Number, access_token: String });
    t.same([good.headers.get('cache-control'), good.headers.get('pragma')], ['no-store', 'no-cache'], 'RFC 6749 §5.1: never cached');

    const assertion = await createClientAssertion(creds, tokenUrl);
    t.equal((await withAssertion(assertion)).status, 200, 'token endpoint URL is an accepted audience');
    t.equal((await withAssertion(await createClientAssertion(creds, `${base}/`))).status, 200, 'the issuer written with a trailing slash is the same audience');
    const slashed = new BusClient(`${base}/`, creds);
    const [one, two] = await Promise.all([slashed.accessToken(), slashed.accessToken()]);
    t.equal(one, two, 'BusClient: a base URL with a trailing slash works, and concurrent callers share one token');
    const replay = await withAssertion(assertion);
    t.equal(replay.status, 401, 'replayed assertion refused');
    t.match(await replay.json(), { error: 'invalid_client', error_description: /replay/ });

    // A scope is refused before the assertion is checked: the assertion is not used up by it.
    const scoped = await createClientAssertion(creds, tokenUrl);
    const withScope = await tokenRequest({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: scoped, scope: 'read' });
    t.equal(withScope.status, 400);
    t.match(await withScope.json(), { error: 'invalid_scope' });
    t.equal((await withAssertion(scoped)).status, 200, 'the same assertion, sent again without the scope, is accepted');

    const wrongAud = await withAssertion(await createClientAssertion(creds, 'https://elsewhere.example'));
    t.equal(wrongAud.status, 401, 'wrong audience');
    t.match(await wrongAud.json(), { error: 'invalid_client', error_description: new RegExp(`^client_assertion aud must be the gateway's issuer identifier or its token endpoint URL \\(one of .*${tokenUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\\); it is "https://elsewhere.example"$`) }, 'names the audiences it takes');

    const key = await importJWK(creds.privateJwk, 'ES256');
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: creds.kid }).setIssuer(creds.clientId).setSubject(creds.clientId)
      .setAudience(base).setJti(uuidv4()).setIssuedAt(Math.floor(Date.now() / 1000) - 600).setExpirationTime(Math.floor(Date.now() / 1000) - 300).sign(key);
    const exp = await withAssertion(expired);
    t.equal(exp.status, 401, 'expired assertion');
    t.match(await exp.json(), { error: 'invalid_client', error_description: /^client_assertion expired at \S+Z \(3\d\d s ago, beyond the 30 s allowed for clock skew\): sign a new one for every token request/ }, 'when and how long ago, in words, not the library\'s');

    // Freshness is judged on iat when there is one: issued within 5 minutes, expiring within an
    // hour of iat (Authlib's default: iat = now, exp = now + 3600); without iat, exp within 5 minutes.
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    const signed = (claims: { iat?: number; exp: number; jti?: string }) => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: creds.kid }).setIssuer(creds.clientId).setSubject(creds.clientId).setAudience(tokenUrl).setJti(claims.jti ?? uuidv4());
      return (claims.iat === undefined ? jwt : jwt.setIssuedAt(claims.iat)).setExpirationTime(claims.exp).sign(key);
    };
    const authlibJti = uuidv4();
    const authlib = await signed({ iat: nowSeconds(), exp: nowSeconds() + 3600, jti: authlibJti });
    t.equal((await withAssertion(authlib)).status, 200, 'an Authlib-shaped assertion (iat now, exp an hour later) is accepted');
    const authlibReplay = await withAssertion(authlib);
    t.equal(authlibReplay.status, 401, 'its replay is refused');
    t.match(await authlibReplay.json(), { error: 'invalid_client', error_description: /jti replay/ });
    const { rows: claimed } = await bus.db.query<{ until: number }>('SELECT extract(epoch FROM expires_at)::float8 AS until FROM gateway_assertion_jti WHERE client_id = $1 AND jti = $2', [creds.clientId, authlibJti]);
    t.ok(claimed.length === 1 && claimed[0].until >= nowSeconds() + 3500, 'its jti stays claimed until its exp, an hour on: a replay within the hour is refused too');

    const stale = await withAssertion(await signed({ iat: nowSeconds() - 600, exp: nowSeconds() + 3000 }));
    t.equal(stale.status, 401, 'an assertion issued 10 minutes ago is refused, however long it lives');
    t.match(await stale.json(), { error: 'invalid_client', error_description: /iat is 60\d s ago.*within the last 300 s/ });
    const twoHours = await withAssertion(await signed({ iat: nowSeconds(), exp: nowSeconds() + 7200 }));
    t.equal(twoHours.status, 401, 'an assertion expiring 2 hours after its iat is refused');
    t.match(await twoHours.json(), { error: 'invalid_client', error_description: /exp is 7200 s after its iat.*within 3600 s/ });
    const longLived = await withAssertion(await signed({ exp: nowSeconds() + 3600 }));
    t.equal(longLived.status, 401, 'without iat, an assertion living more than 5 minutes is refused');
    t.match(await longLived.json(), { error: 'invalid_client', error_description: /exp must be within 300 s from now when it has no iat/ });
    t.equal((await withAssertion(await signed({ exp: nowSeconds() + 240 }))).status, 200, 'without iat, one expiring within 5 minutes is accepted');
    const fromTheFuture = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: creds.kid }).setIssuer(creds.clientId).setSubject(creds.clientId)
      .setAudience(base).setJti(uuidv4()).setIssuedAt(Math.floor(Date.now() / 1000) + 3600).setExpirationTime('1m').sign(key);
    const future = await withAssertion(fromTheFuture);
    t.equal(future.status, 401, 'assertion issued an hour from now refused');
    t.match(await future.json(), { error: 'invalid_client', error_description: /iat is in the future/ });

    const none = new UnsecuredJWT({}).setIssuer(creds.clientId).setSubject(creds.clientId).setAudience(base).setJti(uuidv4()).setExpirationTime('1m').encode();
    const noneRes = await withAssertion(none);
    t.equal(noneRes.status, 401, 'alg none refused');

    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: creds.kid }).setIssuer(creds.clientId).setSubject(creds.clientId)
      .setAudience(base).setJti(uuidv4()).setExpirationTime('1m').sign(privateKey);
    t.equal((await withAssertion(forged)).status, 401, 'assertion signed by another key refused');

    const basic = (id: string, secret: string) => ({ authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64') });
    const legacy = bus.clients.get('so-khdt-qlvb')!;
    t.equal((await tokenRequest({ grant_type: 'client_credentials' }, basic(legacy.clientId, legacy.clientSecret!))).status, 200, 'client_secret_basic works');
    t.equal(creds.clientSecret, undefined, 'a system that signs assertions is issued no secret');
    t.same(creds.roles, ['agency'], 'its dev credentials file carries its roles');
    t.same(bus.clients.get('lgsp-operator')!.roles, ['operator']);
    const keyOnly = await tokenRequest({ grant_type: 'client_credentials' }, basic(creds.clientId, 'anything'));
    t.equal(keyOnly.status, 401, 'and Basic is refused for it');
    t.match(await keyOnly.json(), { error: 'invalid_client' });
    const badSecret = await tokenRequest({ grant_type: 'client_credentials' }, basic(legacy.clientId, 'wrong'));
    t.equal(badSecret.status, 401);
    t.match(badSecret.headers.get('www-authenticate'), /Basic/);
    const noAuth = await tokenRequest({ grant_type: 'client_credentials' });
    t.equal(noAuth.status, 401);
    const badGrant = await tokenRequest({ grant_type: 'password' }, basic(legacy.clientId, legacy.clientSecret!));
    t.equal(badGrant.status, 400);
    t.match(await badGrant.json(), { error: 'unsupported_grant_type' });

    // An assertion id PostgreSQL cannot store (it is kept for replay detection): refused as an
    // OAuth error, not a 500.
    const nulJti = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: creds.kid }).setIssuer(creds.clientId).setSubject(creds.clientId)
      .setAudience(base).setJti('jti\u0000x').setExpirationTime('1m').sign(key);
    const nulJtiRes = await withAssertion(nulJti);
    t.equal(nulJtiRes.status, 401, 'jti with U+0000');
    t.match(await nulJtiRes.json(), { error: 'invalid_client', error_description: /jti/ });
    const nulForm = await tokenRequest({ grant_type: 'client_credentials', client_id: 'x\u0000' });
    t.equal(nulForm.status, 400, 'form field with U+0000');
    t.match(await nulForm.json(), { error: 'invalid_request', error_description: /client_id/ });

    // RFC 6749 §3.2: a parameter at most once. A repeated field (or, as JSON, a value that is not
    // a string) is invalid_request, before any credential is looked at; it was a 500.
    const legacyAuth = basic(legacy.clientId, legacy.clientSecret!);
    const raw = (body: string, contentType: string) => fetch(tokenUrl, { method: 'POST', headers: { 'content-type': contentType, ...legacyAuth }, body });
    for (const [what, res] of [
      ['scope twice', await raw('grant_type=client_credentials&scope=a&scope=b', 'application/x-www-form-urlencoded')],
      ['grant_type twice', await raw('grant_type=client_credentials&grant_type=client_credentials', 'application/x-www-form-urlencoded')],
      ['scope as a JSON number', await raw(JSON.stringify({ grant_type: 'client_credentials', scope: 5 }), 'application/json')],
      ['client_assertion as a JSON object', await raw(JSON.stringify({ grant_type: 'client_credentials', client_assertion: {} }), 'application/json')],
    ] as const) {
      t.equal(res.status, 400, what);
      t.match(await res.json(), { error: 'invalid_request', error_description: /^(scope|grant_type|client_assertion) must be given once, as a single string value$/ }, what);
    }
    const sameClient = await raw(`grant_type=client_credentials&client_id=${encodeURIComponent(legacy.clientId)}`, 'application/x-www-form-urlencoded');
    t.equal(sameClient.status, 200, 'a client_id naming the Basic client is fine');
    const otherClient = await raw('grant_type=client_credentials&client_id=so-tp-qlvb', 'application/x-www-form-urlencoded');
    t.equal(otherClient.status, 401, 'a client_id naming another client than the Basic credentials');
    t.match(await otherClient.json(), { error: 'invalid_client', error_description: /does not match the Basic credentials/ });
    const notAForm = await raw('["grant_type"]', 'application/json');
    t.equal(notAForm.status, 400, 'a JSON array is no set of parameters');
    t.match(await notAForm.json(), { error: 'invalid_request', error_description: /form parameters/ });
    for (const [what, body] of [['truncated JSON', '{"grant_type":"client_cred'], ['a __proto__ key', '{"grant_type":"client_credentials","__proto__":{"x":1}}']] as const) {
      const bad = await raw(body, 'application/json');
      t.equal(bad.status, 400, what);
      t.match(await bad.json(), { error: 'invalid_request', error_description: /JSON|__proto__/ }, `${what}: an OAuth error, not a bare "Bad Request"`);
    }
    const asJson = await raw(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json');
    t.equal(asJson.status, 200, 'parameters as a JSON object still work');
    const unknownParam = await raw('grant_type=client_credentials&resource=x&resource=y', 'application/x-www-form-urlencoded');
    t.equal(unknownParam.status, 200, 'parameters the endpoint does not use are ignored, repeated or not (RFC 6749 §3.2)');
    const emptyScope = await raw('grant_type=client_credentials&scope=', 'application/x-www-form-urlencoded');
    t.equal(emptyScope.status, 200, 'an empty scope is as good as none');
    const someScope = await raw('grant_type=client_credentials&scope=read', 'application/x-www-form-urlencoded');
    t.match(await someScope.json(), { error: 'invalid_scope' });
    const empty = await fetch(tokenUrl, { method: 'POST' });
    t.equal(empty.status, 400, 'no body at all');
    t.match(await empty.json(), { error: 'invalid_request', error_description: /grant_type/ });
  });

  await t.test('message submission', async (t) => {
    const token = await bus.client('so-tttt-qlvb').accessToken();
    const auth = { authorization: `Bearer ${token}` };

    const noToken = await post(notice);
    t.equal(noToken.status, 401, 'no token');
    isProblem(t, noToken);
    t.match(await noToken.json(), { status: 401, code: 'UNAUTHENTICATED', type: String, title: String, detail: String });
    // RFC 6750 §3.1: another scheme is no authentication (401, a challenge without an error); a
    // Bearer header without exactly one token is malformed (400 invalid_request).
    const basicHere = await post(notice, { authorization: 'Basic ' + Buffer.from('a:b').toString('base64') });
    t.equal(basicHere.status, 401, 'the Basic scheme on the API');
    t.equal(basicHere.headers.get('www-authenticate'), 'Bearer realm="lgsp"');
    t.match(await basicHere.json(), { code: 'UNAUTHENTICATED', detail: /not the Basic scheme/ });
    for (const header of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer "a"']) {
      const malformedHeader = await post(notice, { authorization: header });
      t.equal(malformedHeader.status, 400, `"${header}"`);
      t.equal(malformedHeader.headers.get('www-authenticate'), 'Bearer realm="lgsp", error="invalid_request"');
      t.match(await malformedHeader.json(), { code: 'BAD_REQUEST' });
    }

    // Two Authorization header lines: Node keeps the first and drops the second unseen, so a
    // request carrying two credentials was served as the first. Refused, whichever comes first.
    // (Headers as a raw array, the one way node:http sends a header twice; it then adds no Host.)
    const withTwoAuthorizations = async (path: string, values: string[], contentType: string, body: string) => {
      const { request } = await import('node:http');
      return await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
        const req = request(`${base}${path}`, { method: 'POST', headers: ['host', new URL(base).host, ...values.flatMap((v) => ['authorization', v]), 'content-type', contentType] }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    };
    for (const values of [[`Bearer ${token}`, 'Bearer not.a.token'], ['Bearer not.a.token', `Bearer ${token}`]]) {
      const two = await withTwoAuthorizations('/v1/messages', values, 'application/json', JSON.stringify(notice));
      t.equal(two.status, 400, `two Authorization headers (${values.map((v) => v.slice(0, 12)).join(' / ')})`);
      t.equal(two.headers['www-authenticate'], 'Bearer realm="lgsp", error="invalid_request"');
      t.match(JSON.parse(two.body), { code: 'BAD_REQUEST', detail: /Authorization header once/ });
    }
    const legacy = bus.clients.get('so-khdt-qlvb')!;
    const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
    const twoBasics = await withTwoAuthorizations('/v1/token', [basic(legacy.clientId, legacy.clientSecret!), basic('other', 'x')], 'application/x-www-form-urlencoded', 'grant_type=client_credentials');
    t.equal(twoBasics.status, 400, 'two sets of client credentials at the token endpoint');
    t.match(JSON.parse(twoBasics.body), { error: 'invalid_request', error_description: /Authorization header once/ });
    // Content-Type twice: Node keeps the first; refused like a repeated Authorization header.
    const { request } = await import('node:http');
    const twoTypes = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const headers = ['host', new URL(base).host, 'authorization', `Bearer ${token}`, 'content-type', 'application/json', 'content-type', 'text/plain'];
      const req = request(`${base}/v1/messages`, { method: 'POST', headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ ...notice, correlationId: 'two-content-types' }));
    });
    t.equal(twoTypes.status, 400, 'two Content-Type headers');
    t.match(twoTypes.headers['content-type'], /^application\/problem\+json/);
    t.match(JSON.parse(twoTypes.body), { code: 'BAD_REQUEST', detail: /Content-Type header once/ });

    const garbage = await post(notice, { authorization: 'Bearer not.a.token' });
    t.equal(garbage.status, 401, 'garbage token');
    t.match(await garbage.json(), { code: 'INVALID_TOKEN' });

    const [h, p] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const noneToken = Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url') + '.' + p + '.';
    const noneRes = await post(notice, { authorization: `Bearer ${noneToken}` });
    t.equal(noneRes.status, 401, 'alg none access token');

    const tamperedPayload = JSON.parse(Buffer.from(p, 'base64url').toString());
    tamperedPayload.member = '000.00.00.H49';
    const tampered = [h, Buffer.from(JSON.stringify(tamperedPayload)).toString('base64url'), token.split('.')[2]].join('.');
    t.equal((await post(notice, { authorization: `Bearer ${tampered}` })).status, 401, 'token with edited claims');

    const malformed = await post('{"type": "notice.send", ', auth);
    t.equal(malformed.status, 400, 'malformed JSON');
    isProblem(t, malformed);
    t.match(await malformed.json(), { code: 'MALFORMED_JSON' });
    // An edXML package sent with the JSON Content-Type: told the type to send.
    const xmlAsJson = await post('\uFEFF\n  <?xml version="1.0" encoding="UTF-8"?><edXMLEnvelope/>', auth);
    t.equal(xmlAsJson.status, 400);
    t.match(await xmlAsJson.json(), { code: 'MALFORMED_JSON', detail: /^The body is not valid JSON: .*; it looks like XML: send XML with Content-Type: application\/xml$/ }, "the route takes XML: the type to send");
    const xmlToJsonOnly = await fetch(`${base}/v1/requests`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '<request/>' });
    t.equal(xmlToJsonOnly.status, 400);
    t.match(await xmlToJsonOnly.json(), { code: 'MALFORMED_JSON', detail: /; it looks like XML, and this operation takes JSON$/ }, 'a route that takes JSON only says so');

    // A Latin-1 body: Fastify's own parser turned the é into U+FFFD and the message was delivered so.
    const latin1 = Buffer.from(JSON.stringify({ ...notice, payload: { subject: 'Café', body: 'x' } }), 'latin1');
    t.throws(() => JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(latin1)), 'the body really is not UTF-8');
    for (const type of ['application/json', 'application/json; charset=utf-8']) {
      const bad = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': type }, body: latin1 });
      t.equal(bad.status, 400, `${type}: bytes that are not UTF-8 are refused, not replaced`);
      t.match(await bad.json(), { code: 'MALFORMED_JSON', detail: /not valid UTF-8/ });
    }
    const declared = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json; charset=ISO-8859-1' }, body: JSON.stringify(notice) });
    t.equal(declared.status, 415, 'another declared charset');
    t.match(await declared.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /charset=iso-8859-1/ });
    const utf8 = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json; charset="UTF-8"' }, body: JSON.stringify(notice) });
    t.equal(utf8.status, 202, 'charset=UTF-8 (quoted, any case) is fine');
    const proto = await post('{"__proto__": {"x": 1}, "type": "notice.send"}', auth);
    t.equal(proto.status, 400, 'prototype poisoning is still refused');
    t.match(await proto.json(), { code: 'MALFORMED_JSON', detail: /"__proto__".*refused for safety/ }, 'and says why, not "not valid JSON"');
    // Which recipient would count depends on the parser: neither is taken.
    const twice = await post('{"type":"notice.send","to":{"member":"000.00.15.H49","member":"000.00.00.H49"},"payload":{"subject":"x","body":"y"}}', auth);
    t.equal(twice.status, 400, 'a key named twice in one object');
    t.match(await twice.json(), { code: 'MALFORMED_JSON', detail: /names the key "to\.member" twice/ });
    const truncated = await post('{"type": "notice.send", "to": ', auth);
    t.match(await truncated.json(), { code: 'MALFORMED_JSON', detail: /^The body is not valid JSON: .*(end|Unexpected)/ }, 'a syntax error says what the parser met');
    const gzipped = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(notice)) });
    t.equal(gzipped.status, 415, 'a compressed body');
    t.match(await gzipped.json(), { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /Content-Encoding gzip/ });
    const identity = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'identity' }, body: JSON.stringify(notice) });
    t.equal(identity.status, 202, 'Content-Encoding: identity is no encoding');

    const schema = await post({ ...notice, payload: { body: 'no subject', extra: 1 } }, auth);
    t.equal(schema.status, 400, 'schema violation');
    const schemaBody = await schema.json();
    t.equal(schemaBody.code, 'VALIDATION_FAILED');
    t.ok(schemaBody.errors.some((e: { field: string }) => e.field === 'payload.subject'), 'missing field named');
    t.ok(schemaBody.errors.some((e: { field: string }) => e.field === 'payload.extra'), 'unknown field named');

    const envelopeViolation = await post({ type: 'notice.send', payload: {} }, auth);
    t.equal(envelopeViolation.status, 400);
    const envelopeBody = await envelopeViolation.json();
    t.ok(envelopeBody.errors.some((e: { field: string }) => e.field === 'to'), 'missing "to" named');
    t.match(envelopeBody.errors.find((e: { field: string }) => e.field === 'to'), { message: 'is required' }, 'a missing property is "required", once (not "to must have required property \'to\'")');
    t.match(envelopeBody.detail, /\bto is required\b/);

    const big = await post({ ...notice, payload: { subject: 'x', body: 'y'.repeat(10_000) } }, auth);
    t.equal(big.status, 413, 'oversized body');
    t.match(await big.json(), { code: 'PAYLOAD_TOO_LARGE', detail: /exceeds the limit of \d+ bytes: send a document's files as attachments, by reference: upload each to POST \/v1\/attachments/ }, 'and says what to do instead');

    const wrongType = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
    t.equal(wrongType.status, 415, 'unsupported media type');
    const hugeHeaders = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'x-padding': 'a'.repeat(20_000) }, body: JSON.stringify(notice) });
    t.equal(hugeHeaders.status, 431, 'headers over the parser limit');
    isProblem(t, hugeHeaders);
    t.match(await hugeHeaders.json(), { code: 'HEADERS_TOO_LARGE' });
    // A blank correlation id would key the message's ordering and thread on nothing anyone can read.
    const lookup = { type: 'dossier.lookup', to: { member: '000.00.00.G22', service: 'dvcqg-lookup' }, payload: { dossierCode: '000.00.15.H49-260115-0001' } };
    for (const [path, body] of [['/v1/messages', notice], ['/v1/requests', lookup]] as const) {
      for (const correlationId of [' ', '\t\n ']) {
        const blank = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...body, correlationId }) });
        t.equal(blank.status, 400, `a blank correlationId to ${path}`);
        isProblem(t, blank);
        t.match(await blank.json(), { code: 'VALIDATION_FAILED', errors: [{ field: 'correlationId', message: 'must not be blank (white space only)' }] });
      }
      // An empty one breaks the length and the blank rule at once: one fault, told once.
      const empty = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...body, correlationId: '' }) });
      t.equal(empty.status, 400, `an empty correlationId to ${path}`);
      const emptyProblem = await empty.json();
      t.same(emptyProblem.errors, [{ field: 'correlationId', message: 'must NOT have fewer than 1 characters' }], `an empty correlationId to ${path}: one error`);
      t.equal(emptyProblem.detail, 'Invalid body: correlationId must NOT have fewer than 1 characters', 'and one fault in the detail');
    }
    // Forms are parsed for /v1/token only: a form here was half-read by the message schema.
    for (const path of ['/v1/messages', '/v1/requests']) {
      const form = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'type=notice.send&to=000.00.15.H49' });
      t.equal(form.status, 415, `a form to ${path}`);
      isProblem(t, form);
      t.match(await form.json(), { code: 'UNSUPPORTED_MEDIA_TYPE' }, `a form to ${path}`);
    }

    const latin1Xml = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { ...auth, 'content-type': 'text/xml; charset=iso-8859-1' }, body: '<edXMLEnvelope/>' });
    t.equal(latin1Xml.status, 415, 'edXML declaring another charset in its Content-Type');
    // The code the guide gives for any encoding other than UTF-8, whether the header or the XML declaration names it.
    t.match(await latin1Xml.json(), { code: 'XML_UNSUPPORTED_ENCODING', detail: /charset=iso-8859-1/ });

    // XML is edXML, and only POST /v1/messages takes it: elsewhere it is the wrong media type,
    // not a broken edXML package.
    for (const path of ['/v1/requests', '/v1/inbox/00000000-0000-7000-8000-000000000000/ack']) {
      const xmlElsewhere = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: '<edXMLEnvelope/>' });
      t.equal(xmlElsewhere.status, 415, `XML to ${path}: 415`);
      const problem = await xmlElsewhere.json();
      t.match(problem, { code: 'UNSUPPORTED_MEDIA_TYPE', detail: /takes application\/json/ }, `XML to ${path}: says what it takes`);
    }

    const unknownType = await post({ ...notice, type: 'nothing.here' }, auth);
    t.equal(unknownType.status, 400);
    t.match(await unknownType.json(), { code: 'UNKNOWN_MESSAGE_TYPE' });

    const unknownMember = await post({ ...notice, to: { member: '000.00.99.H49', service: 'notice' } }, auth);
    t.equal(unknownMember.status, 422, 'unknown member');
    t.match(await unknownMember.json(), { code: 'UNKNOWN_MEMBER', errors: [{ field: 'to.member' }] });

    const forbidden = await bus.client('so-tp-qlvb').send({ ...notice, to: { member: '000.00.00.H49', service: 'leadership-notice' } });
    t.equal(forbidden.status, 403, 'forbidden service');
    t.equal(forbidden.body.code, 'SERVICE_FORBIDDEN');
    // Authorise before validating: without the access right, a wrong payload is still a 403 and
    // says nothing about the schema.
    const forbiddenInvalid = await bus.client('so-tp-qlvb').send({ ...notice, to: { member: '000.00.00.H49', service: 'leadership-notice' }, payload: { nonsense: 1 } });
    t.same([forbiddenInvalid.status, forbiddenInvalid.body.code], [403, 'SERVICE_FORBIDDEN'], '403 before any schema detail');
    t.notOk(JSON.stringify(forbiddenInvalid.body).includes('subject'), 'no field of the schema named');
    t.notOk(forbiddenInvalid.body.errors, 'no field errors');
    const allowed = await bus.client('so-tttt-qlvb').send({ ...notice, to: { member: '000.00.00.H49', service: 'leadership-notice' } });
    t.equal(allowed.status, 202, 'the client with the access right may call it');

    const operatorSend = await bus.client('lgsp-operator').send(notice);
    t.equal(operatorSend.status, 403, 'an operator token cannot submit agency messages');

    const missing = await bus.client('so-tttt-qlvb').status('0190a0a0-0000-7000-8000-000000000000');
    t.equal(missing.status, 404);
    t.equal(missing.body.code, 'MESSAGE_NOT_FOUND');

    const noRoute = await fetch(`${base}/v1/nothing`);
    t.equal(noRoute.status, 404);
    isProblem(t, noRoute);
  });

  await t.test('bodies in flight past the budget', async (t) => {
    const token = await bus.client('so-tttt-qlvb').accessToken();
    // A client announces a 4,000-byte body and sends it slowly: the gateway holds its length.
    const slow = await startSlowPost(Number(new URL(base).port), '/v1/messages', { length: 4000, headers: { authorization: `Bearer ${token}` } });
    await new Promise((r) => setTimeout(r, 200));
    const body = { ...notice, payload: { subject: 'Họp', body: 'z'.repeat(2500) } };
    const busy = await post(body, { authorization: `Bearer ${token}` });
    t.equal(busy.status, 503, 'no room for a second body');
    isProblem(t, busy);
    t.equal(busy.headers.get('retry-after'), '1');
    t.match(await busy.json(), { code: 'GATEWAY_BUSY' });
    t.match(await (await fetch(`${base}/metrics`)).text(), /lgsp_gateway_busy_refusals_total\{[^}]*\} 1/, 'the refusal is counted');
    // Room is left, but not for this client: it already holds more than half of the budget.
    const small = { ...notice, payload: { subject: 'Họp', body: 'nhỏ' } };
    t.equal((await post(small, { authorization: `Bearer ${token}` })).status, 503, 'the holding client gets no more');
    const other = await bus.client('so-tp-qlvb').send({ ...small, to: { member: '000.00.12.H49', service: 'notice' } });
    t.equal(other.status, 202, 'another client is not held back by it');
    slow.destroy();
    let after = busy;
    for (let i = 0; i < 50 && after.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await post(body, { authorization: `Bearer ${token}` });
    }
    t.equal(after.status, 202, 'accepted once the slow client is gone');
  });

  await t.test('idempotency', async (t) => {
    const client = bus.client('so-tttt-qlvb');
    const first = await client.send(notice, 'key-1');
    const again = await client.send(notice, 'key-1');
    t.equal(first.status, 202);
    t.equal(again.status, 202);
    t.equal(again.body.id, first.body.id, 'same key and body → same id');
    const reordered = { ...Object.fromEntries(Object.entries(notice).reverse()), payload: Object.fromEntries(Object.entries(notice.payload).reverse()) };
    t.not(JSON.stringify(reordered), JSON.stringify(notice));
    const sameJson = await client.send(reordered as unknown as typeof notice, 'key-1');
    t.equal(sameJson.status, 202, 'the same JSON with its keys in another order is the same request');
    t.equal(sameJson.body.id, first.body.id);
    const decomposed = { ...notice, payload: { subject: notice.payload.subject.normalize('NFD'), body: notice.payload.body.normalize('NFD') } };
    t.not(decomposed.payload.subject, notice.payload.subject);
    const sameText = await client.send(decomposed, 'key-1');
    t.equal(sameText.status, 202, 'the same text written decomposed (NFD) is the same request: the bus keeps NFC');
    t.equal(sameText.body.id, first.body.id);
    const [c1, c2] = await Promise.all([client.send(notice, 'key-2'), client.send(notice, 'key-2')]);
    t.equal(c1.body.id, c2.body.id, 'concurrent requests with one key → one message');
    const conflict = await client.send({ ...notice, payload: { subject: 'khác', body: 'khác' } }, 'key-1');
    t.equal(conflict.status, 409, 'same key, different body');
    t.equal(conflict.body.code, 'IDEMPOTENCY_KEY_REUSED');
    t.match(conflict.body.detail, first.body.id, 'names the message the key already stands for');
    t.same(conflict.body.errors, [{ field: 'Idempotency-Key', message: 'already used with a different request body' }], 'the header as the field at fault');
  });

  await t.test('directory and discovery', async (t) => {
    const services = await bus.client('so-tp-qlvb').request('GET', '/v1/services');
    t.equal(services.status, 200);
    t.notOk(services.body.services.some((s: { code: string }) => s.code === 'leadership-notice'), 'only services the caller may use');
    t.ok(services.body.services.some((s: { code: string }) => s.code === 'notice'));
    const schema = await fetch(`${base}${services.body.services[0].messageTypes[0].schema}`);
    t.equal(schema.status, 200);
    t.match(await schema.json(), { type: 'object', examples: Array });
    const members = await bus.client('so-tp-qlvb').request('GET', '/v1/members');
    t.ok(members.body.members.length >= 3);
    const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
    t.equal(jwks.keys.length, 7, 'one key per purpose and service');
    t.notOk(jwks.keys.some((k: Record<string, unknown>) => 'd' in k), 'no private part published');
    const meta = await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json();
    t.match(meta, { issuer: base, token_endpoint: tokenUrl, token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic'] });
    const openapi = await (await fetch(`${base}/openapi.json`)).json();
    t.ok(openapi.paths['/v1/messages'], 'OpenAPI documents /v1/messages');
    t.same(Object.keys(openapi.paths['/v1/messages'].post.requestBody.content).sort(), ['application/json', 'application/soap+xml', 'application/xml', 'text/xml'], 'POST /v1/messages: JSON and edXML bodies');
    t.ok(openapi.paths['/v1/attachments'].post.requestBody.content['application/octet-stream'], 'POST /v1/attachments: raw bytes');
    // Under their own type too, as the upload takes them (its summary says so): the document lists it.
    t.ok(openapi.paths['/v1/attachments'].post.requestBody.content['*/*'], 'POST /v1/attachments: the bytes under any type');
    const pdf = await fetch(`${base}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${await bus.client('so-tp-qlvb').accessToken()}`, 'content-type': 'application/pdf' }, body: Buffer.from('%PDF-1.4 gateway-errors') });
    t.equal(pdf.status, 201, 'an application/pdf upload is taken');
    for (const path of ['/v1/services', '/v1/members', '/v1/inbox', '/v1/documents/{documentId}']) t.ok(openapi.paths[path].get.responses['200'].content['application/json'], `GET ${path}: its answer documented`);
    t.ok(openapi.paths['/v1/attachments/{sha256}'].get.responses['200'].content['application/octet-stream'], 'GET /v1/attachments/{sha256}: bytes');
    t.ok(openapi.paths['/v1/messages'].post.responses['400'].content['application/problem+json'].schema, 'errors documented as problem+json');
    t.notOk(openapi.paths['/v1/messages'].post.responses['400'].content['application/json'], 'not as plain JSON');
    t.ok(openapi.paths['/v1/messages'].post.responses['202'].headers.Location, 'the 202 names its Location header');
    const servicesAnswers = openapi.paths['/v1/services'].get.responses;
    t.ok(servicesAnswers['400'] && servicesAnswers['401'].headers['WWW-Authenticate'], 'a Bearer operation documents 400 and 401 with its challenge');
    t.ok(servicesAnswers['429'].headers['Retry-After'], 'and 429 with Retry-After');
    t.ok(openapi.paths['/v1/messages'].post.responses['503'].headers['Retry-After'], '503 with Retry-After');
    t.ok(openapi.paths['/.well-known/jwks.json'].get.responses['400'], 'a bad ?purpose= is documented');
    // What a client generator needs: an operationId on every operation, none twice, and the
    // problem members every error carries marked required.
    const operations = Object.entries(openapi.paths as Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema?: { required?: string[] } }> }> }>>)
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    const ids = operations.map((o) => o.op.operationId);
    t.ok(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id)), 'every operation has an operationId');
    t.equal(new Set(ids).size, ids.length, 'no operationId twice');
    t.equal(openapi.paths['/v1/messages/{id}'].get.operationId, 'getMessagesById');
    t.equal(openapi.paths['/v1/inbox/{id}/ack'].post.operationId, 'postInboxByIdAck');
    const problemSchemas = operations.flatMap((o) => Object.values(o.op.responses).map((r) => r.content?.['application/problem+json']?.schema)).filter(Boolean);
    t.ok(problemSchemas.length > operations.length, 'errors documented on every operation');
    t.ok(problemSchemas.every((schema) => ['type', 'title', 'status', 'detail', 'code'].every((m) => schema!.required?.includes(m))), 'every problem schema requires type, title, status, detail and code');
    for (const { path, method, op } of operations) {
      t.ok(op.responses['431'] && op.responses['500'], `${method} ${path}: 431 and 500 documented`);
      if (path.includes('{')) t.ok(op.responses['414'], `${method} ${path}: 414 documented`);
    }
    t.ok(openapi.paths['/v1/messages'].post.responses['413'] && openapi.paths['/v1/messages'].post.responses['415'], 'a body operation documents 413 and 415');
    t.ok(openapi.paths['/readyz'].get.responses['503'].content['application/problem+json'], '/readyz: not ready is a problem');
    // The answers really carry the members the document marks required.
    for (const [url, init] of [[`${base}/v1/messages/${'a'.repeat(5000)}`, {}], [`${base}/v1/services`, {}], [`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }], [`${base}/healthz?x=%00`, {}]] as const) {
      const answer = await fetch(url, init);
      const body = await answer.json();
      t.ok(['type', 'title', 'status', 'detail', 'code'].every((m) => m in body), `${url.slice(base.length, base.length + 40)}: ${answer.status} with every required member`);
    }
    const index = await (await fetch(`${base}/v1/schemas`)).json();
    t.match(index.types.find((x: { type: string }) => x.type === 'notice.send'), { connector: 'relay', sentWith: 'POST /v1/messages', schema: '/v1/schemas/notice.send' }, 'GET /v1/schemas lists every type');
    t.match(index.types.find((x: { type: string }) => x.type === 'dossier.lookup'), { sentWith: 'POST /v1/requests', schema: '/v1/schemas/dossier.lookup', replySchema: '/v1/schemas/dossier.lookup.reply' }, 'a request type links its reply schema');
    t.notOk('replySchema' in index.types.find((x: { type: string }) => x.type === 'notice.send'), 'a message type has no reply');
    // The reply POST /v1/requests answers with is published like the payload schemas.
    const replySchema = await fetch(`${base}/v1/schemas/dossier.lookup.reply`);
    t.equal(replySchema.status, 200, 'GET /v1/schemas/dossier.lookup.reply');
    t.match(replySchema.headers.get('content-type'), /^application\/schema\+json/);
    t.match(await replySchema.json(), { $id: 'https://lgsp.example.gov.vn/schemas/messages/dossier.lookup.reply.schema.json', required: ['dossierCode', 'found'], examples: Array });
    const noReply = await fetch(`${base}/v1/schemas/notice.send.reply`);
    t.equal(noReply.status, 404, 'a type without a reply has no reply schema');
    t.match(await noReply.json(), { code: 'UNKNOWN_MESSAGE_TYPE' });
    const replyComponent = openapi.components.schemas['dossier.lookup.reply'];
    t.match(replyComponent, { 'x-lgsp-reply-of': 'dossier.lookup', 'x-lgsp-connector': 'one-stop-shop', 'x-lgsp-schema-url': '/v1/schemas/dossier.lookup.reply', required: ['dossierCode', 'found'] }, 'the reply schema is an OpenAPI component');
    const replyRefs = [...JSON.stringify(replyComponent).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]);
    t.ok(replyRefs.length > 0, 'the reply schema refers to its definitions');
    const resolve = (pointer: string) => pointer.split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], openapi);
    for (const ref of replyRefs) t.match(resolve(ref), { enum: Array }, `#/${ref} resolves in the document`);
    t.equal(openapi.components.schemas['dossier.lookup']['x-lgsp-reply-schema'], '#/components/schemas/dossier.lookup.reply');
    t.notOk(openapi.components.schemas['notice.send.reply']);
    t.match(openapi.info.description, /`dossier\.lookup` .*reply schema `#\/components\/schemas\/dossier\.lookup\.reply`/);
    t.match(openapi.paths['/v1/messages'].post.parameters.find((p: { name: string }) => p.name === 'idempotency-key'), { in: 'header', description: /1-200 visible ASCII/ }, 'Idempotency-Key described');
    t.match(openapi.paths['/v1/token'].post.requestBody.content['application/x-www-form-urlencoded'].schema.properties, { grant_type: {}, client_assertion: {}, scope: {} }, 'POST /v1/token: its form parameters');
    t.match(openapi.paths['/v1/token'].post.requestBody.content['application/json'].schema.properties, { grant_type: {}, client_assertion: {} }, 'POST /v1/token: the same parameters as JSON, which it also takes');
    t.equal((await fetch(`${base}/docs`, { redirect: 'follow' })).status, 200, '/docs served');
    t.equal((await fetch(`${base}/readyz`)).status, 200, 'ready');
    t.match(await (await fetch(`${base}/metrics`)).text(), /lgsp_http_requests_total/);
  });

  await t.test('text PostgreSQL or UTF-8 cannot carry: 400 for that request alone', async (t) => {
    const sender = bus.client('so-tttt-qlvb');
    const other = bus.client('so-tp-qlvb');
    const auth = { authorization: `Bearer ${await sender.accessToken()}` };
    const otherAuth = { authorization: `Bearer ${await other.accessToken()}` };
    // The bad requests race ordinary ones from another client: those share the accepted-rows
    // statement, and must not fail with them.
    const [nul, surrogate, ...ordinary] = await Promise.all([
      post({ ...notice, correlationId: 'poison\u0000x' }, auth),
      post({ ...notice, correlationId: 'x\ud800y' }, auth),
      ...Array.from({ length: 8 }, () => post(notice, otherAuth)),
    ]);
    for (const [res, field] of [[nul, 'correlationId'], [surrogate, 'correlationId']] as const) {
      t.equal(res.status, 400);
      isProblem(t, res);
      t.match(await res.json(), { code: 'VALIDATION_FAILED', errors: [{ field }] });
    }
    t.same(ordinary.map((r) => r.status), Array(8).fill(202), "another client's requests are accepted meanwhile");
    const deep = await post({ ...notice, payload: { ...notice.payload, x: JSON.parse(`${'['.repeat(300)}${']'.repeat(300)}`) } }, auth);
    t.equal(deep.status, 400, 'absurdly nested payload');
    t.match(await deep.json(), { code: 'VALIDATION_FAILED', errors: [{ message: /nest deeper/ }] });
    const nulId = await fetch(`${base}/v1/messages/a%00b`, { headers: auth });
    t.equal(nulId.status, 400, 'U+0000 in a path parameter');
    isProblem(t, nulId);
    const badUrl = await fetch(`${base}/v1/messages/%FF`, { headers: auth });
    t.equal(badUrl.status, 400, 'a URL that does not decode to UTF-8');
    isProblem(t, badUrl);
    const noToken = await fetch(`${base}/v1/members`);
    t.equal(noToken.status, 401);
    t.equal(noToken.headers.get('www-authenticate'), 'Bearer realm="lgsp"');
    const missingDoc = await fetch(`${base}/docs/static/nope.js`);
    t.equal(missingDoc.status, 404, 'a missing file under /docs is a 404, not a 405');
  });

  await t.test('wrong method on a real endpoint: 405 with Allow; an unknown path: 404', async (t) => {
    for (const [method, path, allow] of [['DELETE', '/v1/messages', 'POST'], ['GET', '/v1/token', 'POST'], ['POST', '/v1/members', 'GET, HEAD']]) {
      const res = await fetch(`${base}${path}`, { method });
      t.equal(res.status, 405, `${method} ${path}`);
      t.equal(res.headers.get('allow'), allow);
      isProblem(t, res);
      t.match(await res.json(), { code: 'METHOD_NOT_ALLOWED', status: 405 });
    }
    const messageId = await fetch(`${base}/v1/messages/0190a0a0-0000-7000-8000-000000000000`, { method: 'PATCH' });
    t.equal(messageId.status, 405);
    t.equal(messageId.headers.get('allow'), 'GET, HEAD', 'a path with a parameter');
    const unknown = await fetch(`${base}/v1/nothing`, { method: 'POST' });
    t.equal(unknown.status, 404);
    t.match(await unknown.json(), { code: 'ROUTE_NOT_FOUND' });
    // The id left out (a trailing '/' where it goes): the route, not "No message  that you may see".
    const noId = await fetch(`${base}/v1/messages/`, { headers: { authorization: `Bearer ${await bus.client('so-tttt-qlvb').accessToken()}` } });
    t.equal(noId.status, 404);
    t.match(await noId.json(), { code: 'ROUTE_NOT_FOUND', detail: 'No route GET /v1/messages/: GET /v1/messages/{id} needs its id' });
  });

  await t.test('a problem names the path asked for, never its query string (it may carry a token)', async (t) => {
    const res = await fetch(`${base}/v1/messages/not-an-id?access_token=secret-looking&citizen=001099012345`);
    t.equal(res.status, 401, 'no Authorization header');
    const body = (await res.json()) as { instance: string };
    t.equal(body.instance, '/v1/messages/not-an-id');
    const unknown = await fetch(`${base}/v1/nothing?access_token=secret-looking`);
    t.equal(((await unknown.json()) as { instance: string }).instance, '/v1/nothing');
  });
});
