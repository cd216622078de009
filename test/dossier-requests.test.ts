// Dossier checks at the gateway (refused with the field named, before Kafka), the portal's own
// refusals (dead-lettered with its code), deny-by-default access, and request/reply through the
// bus: POST /v1/requests with dossier.lookup answered by the portal, and 504 when no reply comes.
import t from 'tap';
import { readTopic } from './helpers/topic-reader.js';
import { topicsFor } from '../services/platform/topics.js';
import { SchemaCatalogue } from '../services/platform/schema-catalogue.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startDossierBus, PORTAL_MEMBER, SO_TP } from './helpers/dossier-bus.js';

t.test('dossier validation and request/reply', async (t) => {
  const d = await startDossierBus(t, 'dossier-requests');
  const oneStop = d.bus.client('so-tp-motcua');
  const submit = (type: string, payload: Record<string, unknown>, service = 'dvcqg-dossier', client = oneStop) =>
    client.send({ type, to: { member: PORTAL_MEMBER, service }, correlationId: String(payload.dossierCode), payload });
  const lookup = (dossierCode: string, headers: Record<string, string> = {}, client = oneStop) =>
    client.request('POST', '/v1/requests', { type: 'dossier.lookup', to: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' }, correlationId: dossierCode, payload: { dossierCode } }, headers);

  await t.test('invalid dossiers are refused at the gateway with the field named, and never reach the portal', async (t) => {
    const cases: { name: string; type: string; payload: Record<string, unknown>; status: number; code: string; field: string }[] = [
      { name: 'illegal transition', type: 'dossier.progress', payload: d.progressPayload('BAD-1', 'registered', 'processed', '2026-01-16T09:00:00+07:00'), status: 422, code: 'DOSSIER_RULES_VIOLATED', field: 'payload.status' },
      { name: 'from a final status', type: 'dossier.progress', payload: d.progressPayload('BAD-2', 'returned', 'processing', '2026-01-16T09:00:00+07:00'), status: 422, code: 'DOSSIER_RULES_VIOLATED', field: 'payload.status' },
      { name: 'due before received', type: 'dossier.sync', payload: d.syncPayload('BAD-3', { dueAt: '2026-01-01T08:00:00+07:00' }), status: 422, code: 'DOSSIER_RULES_VIOLATED', field: 'payload.dueAt' },
      { name: 'returned without a return date', type: 'dossier.sync', payload: d.syncPayload('BAD-4', { status: 'returned' }), status: 422, code: 'DOSSIER_RULES_VIOLATED', field: 'payload.returnedAt' },
      { name: 'return date without returned', type: 'dossier.progress', payload: d.progressPayload('BAD-5', 'accepted', 'processing', '2026-01-16T09:00:00+07:00', { returnedAt: '2026-01-17T09:00:00+07:00' }), status: 422, code: 'DOSSIER_RULES_VIOLATED', field: 'payload.returnedAt' },
      { name: 'malformed procedure code', type: 'dossier.sync', payload: d.syncPayload('BAD-6', { procedureCode: '1001234' }), status: 400, code: 'VALIDATION_FAILED', field: 'payload.procedureCode' },
      { name: 'date without an offset', type: 'dossier.sync', payload: d.syncPayload('BAD-7', { receivedAt: '2026-01-15T08:30:00' }), status: 400, code: 'VALIDATION_FAILED', field: 'payload.receivedAt' },
      { name: 'applicant without a name', type: 'dossier.sync', payload: d.syncPayload('BAD-8', { applicant: { kind: 'citizen' } }), status: 400, code: 'VALIDATION_FAILED', field: 'payload.applicant.name' },
      { name: 'unknown status', type: 'dossier.sync', payload: d.syncPayload('BAD-9', { status: 'finished' }), status: 400, code: 'VALIDATION_FAILED', field: 'payload.status' },
      { name: 'unknown field', type: 'dossier.sync', payload: d.syncPayload('BAD-10', { MaHoSo: 'BAD-10' }), status: 400, code: 'VALIDATION_FAILED', field: 'payload.MaHoSo' },
    ];
    for (const c of cases) {
      const r = await submit(c.type, c.payload);
      t.equal(r.status, c.status, `${c.name}: ${r.status}`);
      t.equal(r.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      t.equal(r.body.code, c.code, c.name);
      t.ok(r.body.errors?.some((e: { field: string }) => e.field === c.field), `${c.name}: names ${c.field} (${JSON.stringify(r.body.errors)})`);
    }
    const dossierTopic = await readTopic(d.bus.config.kafkaBrokers, topicsFor(d.bus.config.topicPrefix).message('dvcqg-dossier'), 1, 1500);
    t.equal(dossierTopic.length, 0, 'nothing reached Kafka');
    t.equal((await d.portalDossiers()).filter((p) => p.dossierCode.startsWith('BAD-')).length, 0, 'nothing reached the portal');
  });

  await t.test('deny by default: a system without an access right cannot sync or look up dossiers', async (t) => {
    const qlvb = d.bus.client('so-tp-qlvb');
    const sync = await submit('dossier.sync', d.syncPayload(`${SO_TP}-DENY-1`), 'dvcqg-dossier', qlvb);
    t.same([sync.status, sync.body.code], [403, 'SERVICE_FORBIDDEN']);
    const ask = await lookup(`${SO_TP}-DENY-1`, {}, qlvb);
    t.same([ask.status, ask.body.code], [403, 'SERVICE_FORBIDDEN']);
  });

  await t.test("the portal's own refusal is dead-lettered with its code, not retried", async (t) => {
    // Well-formed for the bus, but the portal's catalogue has no such procedure.
    const r = await submit('dossier.sync', d.syncPayload(`${SO_TP}-260120-0404`, { procedureCode: '1.999999' }));
    t.equal(r.status, 202);
    const view = await d.waitStatus(r.body.id, 'dead_lettered');
    const dead = view.events.find((e) => e.event === 'dead_lettered')!;
    t.match(dead.detail, { attempts: 1, reason: /error_code 4.*MaTTHC/ });
  });

  await t.test('lookup through the bus returns the portal answer', async (t) => {
    const code = `${SO_TP}-260120-0001`;
    for (const id of [
      (await submit('dossier.sync', d.syncPayload(code, { status: 'accepted' }))).body.id,
      (await submit('dossier.progress', d.progressPayload(code, 'accepted', 'processing', '2026-01-16T09:15:00+07:00'))).body.id,
    ]) await d.waitStatus(id, 'delivered');

    const r = await lookup(code);
    t.equal(r.status, 200, JSON.stringify(r.body));
    t.match(r.body, { type: 'dossier.lookup', status: 'replied', from: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' } });
    t.equal(r.headers.get('location'), `/v1/messages/${r.body.id}`);
    t.match(r.body.reply, {
      dossierCode: code,
      found: true,
      dossier: { procedureCode: '1.001234', sectorCode: 'LLTP', applicantName: 'Nguyễn Văn An', applicantKind: 'citizen', status: 'processing', receivedAt: '2026-01-15T08:30:00+07:00', dueAt: '2026-01-29T17:00:00+07:00' },
    });
    t.same(r.body.reply.history.map((h: { status: string }) => h.status), ['accepted', 'processing']);
    t.equal(r.body.reply.history[1].handledAt, '2026-01-16T09:15:00+07:00');

    const missing = await lookup(`${SO_TP}-260120-9999`);
    t.equal(missing.status, 200);
    t.same(missing.body.reply, { dossierCode: `${SO_TP}-260120-9999`, found: false });
    // Lookups are scoped to the caller's agency: another agency's one-stop system sees nothing.
    const other = await lookup(code, {}, d.bus.client('so-khdt-motcua'));
    t.equal(other.body.reply.found, false);

    const timeline = await d.waitStatus(r.body.id, 'delivered');
    const replied = timeline.events.find((e) => e.event === 'status');
    t.match(replied?.detail, { reply: 'sent', replyDigest: /^sha-256=/ }, 'the timeline records the reply by digest');
    t.notOk(JSON.stringify(timeline).includes('Nguyễn Văn An'), 'the reply body is not on the timeline');
  });

  await t.test('lookup timeout: 504 problem+json when no reply comes in time', async (t) => {
    await d.setFaults({ latencyMs: 4000 });
    const began = Date.now();
    const r = await lookup(`${SO_TP}-260120-0001`, { prefer: 'wait=1' });
    const waited = Date.now() - began;
    await d.setFaults({});
    t.equal(r.status, 504);
    t.equal(r.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    t.match(r.body, { code: 'REPLY_TIMEOUT', status: 504, messageId: String, detail: /within 1 s/ });
    t.equal(r.headers.get('location'), `/v1/messages/${r.body.messageId}`, 'with the Location to follow it at');
    t.equal(r.headers.get('preference-applied'), 'wait=1', 'and the wait that applied (RFC 7240 Preference-Applied)');
    const documented = (await (await fetch(`${d.bus.gateway.url}/openapi.json`)).json()).paths['/v1/requests'].post.responses;
    for (const status of ['200', '502', '504']) t.ok(documented[status].headers?.Location, `the document names the Location of a ${status}`);
    t.ok(waited >= 950 && waited < 3000, `answered after ${waited} ms`);
    // The request stays on the bus and completes once the portal answers; the late reply is dropped.
    await d.waitStatus(r.body.messageId, 'delivered');
  });

  await t.test('Prefer: wait is honoured within its bounds, and the wait that applied is said', async (t) => {
    const code = `${SO_TP}-260120-9998`;
    // Out of bounds: brought within them, and said so; a client asking 100 s learns it gets 30.
    const long = await lookup(code, { prefer: 'wait=100' });
    t.same([long.status, long.headers.get('preference-applied')], [200, 'wait=30'], 'wait=100 applies as wait=30');
    const among = await lookup(code, { prefer: 'respond-async, wait=5' });
    t.same([among.status, among.headers.get('preference-applied')], [200, 'wait=5'], 'a wait among other preferences');
    // Not understood, or not asked: ignored (RFC 7240 §2), the default applies and nothing is claimed.
    for (const prefer of ['wait=soon', 'return=minimal', undefined]) {
      const r = await lookup(code, prefer === undefined ? {} : { prefer });
      t.same([r.status, r.headers.get('preference-applied')], [200, null], `${prefer ?? 'no Prefer'}: no Preference-Applied`);
    }
    await d.setFaults({ latencyMs: 4000 });
    const began = Date.now();
    const zero = await lookup(code, { prefer: 'wait=0' });
    const waited = Date.now() - began;
    await d.setFaults({});
    t.same([zero.status, zero.headers.get('preference-applied')], [504, 'wait=1'], 'wait=0 applies as wait=1');
    t.ok(waited >= 950 && waited < 3000, `wait=0 waited ${waited} ms`);
    await d.waitStatus(zero.body.messageId, 'delivered');

    const operation = (await (await fetch(`${d.bus.gateway.url}/openapi.json`)).json()).paths['/v1/requests'].post;
    const prefer = operation.parameters.find((p: { name: string; in: string }) => p.in === 'header' && p.name === 'prefer');
    t.match(prefer?.description, /wait=<seconds>.*1-30 \(default 10\).*Preference-Applied.*malformed.*ignored/s, 'the Prefer parameter says its bounds, the default and what is ignored');
    for (const status of ['200', '502', '504']) t.ok(operation.responses[status].headers?.['Preference-Applied'], `a ${status} documents Preference-Applied`);
  });

  await t.test('the OpenAPI document describes /v1/requests as it behaves, and its example works', async (t) => {
    const openapi = await (await fetch(`${d.bus.gateway.url}/openapi.json`)).json();
    const body = openapi.paths['/v1/requests'].post.requestBody.content['application/json'];
    t.match(body.schema, { title: 'Request submission', properties: { to: { type: 'object' } } }, 'its own body, not the POST /v1/messages one');
    t.notOk(body.schema.properties.to.oneOf, '`to` is one recipient, never a list');
    t.ok(body.schema.properties.type.enum.includes('dossier.lookup'), 'request/reply types');
    t.notOk(body.schema.properties.type.enum.includes('notice.send') || body.schema.properties.type.enum.includes('dossier.sync'), 'and no other');
    const example = body.example ?? body.examples?.example1?.value;
    t.equal(example?.type, 'dossier.lookup', 'the example is a request');
    // As Swagger UI's "Try it out" sends it: the example as it stands.
    const tried = await oneStop.request('POST', '/v1/requests', example, { prefer: 'wait=10' });
    t.equal(tried.status, 200, JSON.stringify(tried.body));
    t.match(tried.body, { type: 'dossier.lookup', status: 'replied', reply: { dossierCode: example.payload.dossierCode, found: Boolean } });
    // The reply, as the published reply schema says.
    const replySchema = await (await fetch(`${d.bus.gateway.url}/v1/schemas/dossier.lookup.reply`)).json();
    const validateReply = new SchemaCatalogue().validator(replySchema.$id);
    t.ok(validateReply(tried.body.reply), `the reply matches GET /v1/schemas/dossier.lookup.reply ${JSON.stringify(validateReply.errors)}`);
    t.match(openapi.paths['/v1/requests'].post.responses['200'].content['application/json'].schema.properties.reply, { description: /\/v1\/schemas\/\{type\}\.reply/ });
    // The answer, as a client generated from the document reads it: the document's own schema for
    // a 200 (OpenAPI 3.1: JSON Schema 2020-12, strictly, formats checked), the reply typed by the
    // reply schema's component, every member the answer always has required and no other.
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components', 'tags', 'security', 'webhooks', 'jsonSchemaDialect', 'example', 'discriminator', 'xml', 'externalDocs']);
    ajv.addVocabulary([...new Set(JSON.stringify(openapi).match(/"x-[a-z-]+"(?=:)/g)?.map((k) => k.slice(1, -1)) ?? [])]);
    ajv.addSchema({ ...openapi, $id: 'urn:lgsp:openapi:gateway' });
    const answerSchema = ajv.getSchema('urn:lgsp:openapi:gateway#/paths/~1v1~1requests/post/responses/200/content/application~1json/schema')!;
    t.ok(answerSchema(tried.body), `the answer matches the documented 200 ${JSON.stringify(answerSchema.errors)}`);
    for (const member of ['id', 'type', 'status', 'from', 'repliedAt', 'reply']) {
      const { [member]: _left, ...rest } = tried.body;
      t.notOk(answerSchema(rest), `the documented 200 requires ${member}`);
    }
    t.notOk(answerSchema({ ...tried.body, unexpected: true }), 'the documented 200 lists every member');
    t.notOk(answerSchema({ ...tried.body, reply: { ...tried.body.reply, found: 'yes' } }), 'the documented reply is the reply schema, not any object');
    // The service listing links it too, beside the payload schema.
    const services = await oneStop.request('GET', '/v1/services');
    const lookupService = services.body.services.find((s: { code: string }) => s.code === 'dvcqg-lookup');
    t.same(lookupService.messageTypes, [{ type: 'dossier.lookup', schema: '/v1/schemas/dossier.lookup', replySchema: '/v1/schemas/dossier.lookup.reply' }]);
    const dossierService = services.body.services.find((s: { code: string }) => s.code === 'dvcqg-dossier');
    t.notOk(dossierService.messageTypes.some((m: Record<string, unknown>) => 'replySchema' in m), 'messages without a reply link none');
  });

  await t.test('only request/reply types go to /v1/requests, with one recipient', async (t) => {
    const notRequest = await oneStop.request('POST', '/v1/requests', { type: 'dossier.sync', to: { member: PORTAL_MEMBER, service: 'dvcqg-dossier' }, payload: d.syncPayload(`${SO_TP}-260120-0002`) });
    t.same([notRequest.status, notRequest.body.code], [400, 'NOT_A_REQUEST_TYPE']);
    t.ok(notRequest.body.errors.some((e: { field: string }) => e.field === 'type'));
    const notRequestInvalid = await oneStop.request('POST', '/v1/requests', { type: 'dossier.sync', to: { member: PORTAL_MEMBER, service: 'dvcqg-dossier' }, payload: {} });
    t.same([notRequestInvalid.status, notRequestInvalid.body.code], [400, 'NOT_A_REQUEST_TYPE'], 'the wrong endpoint is said before the payload is judged');
    const unknown = await oneStop.request('POST', '/v1/requests', { type: 'nothing.here', to: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' }, payload: {} });
    t.same([unknown.status, unknown.body.code], [400, 'UNKNOWN_MESSAGE_TYPE']);
    const listed = await oneStop.request('POST', '/v1/requests', { type: 'dossier.lookup', to: [{ member: PORTAL_MEMBER, service: 'dvcqg-lookup' }], payload: { dossierCode: `${SO_TP}-260120-0002` } });
    t.same([listed.status, listed.body.code], [400, 'BAD_REQUEST'], 'a list of recipients');
    t.match(listed.body, { detail: /exactly one recipient/, errors: [{ field: 'to' }] });
    // Sent as a plain message, a lookup's reply would reach nobody: refused, pointing to /v1/requests.
    const asMessage = await oneStop.request('POST', '/v1/messages', { type: 'dossier.lookup', to: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' }, payload: { dossierCode: `${SO_TP}-260120-0002` } });
    t.same([asMessage.status, asMessage.body.code], [400, 'REQUEST_REPLY_TYPE']);
    t.match(asMessage.body, { detail: /POST \/v1\/requests/, errors: [{ field: 'type' }] });
    const invalid = await oneStop.request('POST', '/v1/requests', { type: 'dossier.lookup', to: { member: PORTAL_MEMBER, service: 'dvcqg-lookup' }, payload: { dossierCode: 'có dấu' } });
    t.same([invalid.status, invalid.body.code], [400, 'VALIDATION_FAILED']);
    t.ok(invalid.body.errors.some((e: { field: string }) => e.field === 'payload.dossierCode'));
  });
});
