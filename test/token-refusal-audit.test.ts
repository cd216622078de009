// A refused token request is audited with the client it claims to be only when that client is
// registered. The audit chain is permanent, on lgsp.events in clear and read by observers; the
// id field of a refused request may hold a secret (id and secret swapped, a secret pasted into
// the wrong field) or a person's name, and none of it may be written there.
import t from 'tap';
import { topicsFor } from '../services/platform/topics.js';
import { UNREGISTERED_CLIENT } from '../services/gateway/client-authentication.js';
import { eventually, startTestBus } from './helpers/test-bus.js';
import { readTopic } from './helpers/topic-reader.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const unsignedJwt = (claims: Record<string, unknown>) =>
  [{ alg: 'ES256', typ: 'JWT' }, claims].map((p) => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2ln';

t.test('refusals name registered clients only', async (t) => {
  const bus = await startTestBus(t, { name: 'token-refusal-audit', runner: false, config: { refusalAuditIntervalMs: 500 } });
  const tokenUrl = `${bus.gateway.url}/v1/token`;
  const legacy = 'so-khdt-qlvb';
  const secret = bus.clients.get(legacy)?.clientSecret;
  t.ok(secret, 'the legacy client has a secret');
  const person = 'Nguyễn Thị Diệu 049777000111';
  const form = 'application/x-www-form-urlencoded';
  const attempts: [string, RequestInit][] = [
    ['id and secret swapped', { method: 'POST', headers: { 'content-type': form, authorization: basic(secret!, legacy) }, body: 'grant_type=client_credentials' }],
    ['a name as client id', { method: 'POST', headers: { 'content-type': form, authorization: basic(person, 'x') }, body: 'grant_type=client_credentials' }],
    ['a name as assertion issuer', {
      method: 'POST',
      headers: { 'content-type': form },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: unsignedJwt({ iss: person, sub: person, aud: bus.config.issuer, exp: Math.floor(Date.now() / 1000) + 60 }),
      }).toString(),
    }],
    ['a registered client, wrong secret', { method: 'POST', headers: { 'content-type': form, authorization: basic(legacy, 'not-the-secret') }, body: 'grant_type=client_credentials' }],
  ];
  for (const [what, init] of attempts) t.equal((await fetch(tokenUrl, init)).status, 401, `${what}: refused`);

  const refusals = async () =>
    (await readTopic(bus.config.kafkaBrokers, topicsFor(bus.config.topicPrefix).events, 1, 5000))
      .filter((r) => r.value.includes('"stage":"token"'));
  const records = await eventually(async () => {
    const found = await refusals();
    const counted = found.reduce((n, r) => n + (JSON.parse(r.value).detail.count as number), 0);
    return counted >= attempts.length ? found : null;
  }, 30_000, 300);

  const byClient = new Map<string, number>();
  for (const r of records) {
    const detail = JSON.parse(r.value).detail as { clientId: string; count: number };
    byClient.set(detail.clientId, (byClient.get(detail.clientId) ?? 0) + detail.count);
  }
  t.same(Object.fromEntries(byClient), { [legacy]: 1, [UNREGISTERED_CLIENT]: 3 }, 'counted: the registered client by name, the rest together');
  const written = records.map((r) => JSON.stringify(r)).join('\n');
  t.notOk(written.includes(secret!), 'the swapped secret is in no audit record');
  for (const part of ['Diệu', '049777000111']) t.notOk(written.includes(part), `"${part}" is in no audit record`);
});
