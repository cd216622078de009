// A refused submission is audited (`rejected` on lgsp.events, then the permanent audit chain),
// but only with what the bus itself vouches for: a message type it offers, a member code in its
// directory. What the caller wrote in those places when they were neither is written as a
// placeholder, never as sent — as the token endpoint writes an unknown client id — since it may
// be anything: a citizen's name or id number in the wrong field, or, for a refusal made before
// the body's schema is checked, any JSON value up to the body limit (an audit entry of 1 MB).
import t from 'tap';
import { topicsFor } from '../services/platform/topics.js';
import { eventually, startTestBus } from './helpers/test-bus.js';
import { readTopic } from './helpers/topic-reader.js';

t.test('refused submissions are audited without the fields the bus could not vouch for', async (t) => {
  const bus = await startTestBus(t, { name: 'rejectaudit', runner: false });
  const post = async (clientId: string, path: string, body: unknown) => {
    const token = await bus.client(clientId).accessToken();
    const res = await fetch(`${bus.gateway.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { code?: string } };
  };
  const MARK = 'NGUYENVANMARKER';

  // 1. POST /v1/requests with a list of recipients is refused before the schema is checked:
  //    `type` may be any JSON value.
  const listed = await post('so-tp-motcua', '/v1/requests', { type: { citizen: `${MARK}-object`, id: '079123456789' }, to: [] });
  t.equal(listed.status, 400);
  t.equal(listed.body.code, 'BAD_REQUEST');
  const long = await post('so-tp-motcua', '/v1/requests', { type: `${MARK}-long-${'x'.repeat(200_000)}`, to: [] });
  t.equal(long.status, 400);

  // 2. A recipient code in the form of a member code but not in the directory (an id number).
  const unknown = await post('so-tp-qlvb', '/v1/messages', { type: 'notice.send', to: { member: `${MARK}.079123456789` }, payload: { subject: 's', body: 'b' } });
  t.equal(unknown.status, 422);
  t.equal(unknown.body.code, 'UNKNOWN_MEMBER');
  const unknownRequest = await post('so-tp-motcua', '/v1/requests', { type: 'dossier.lookup', to: { member: `${MARK}.REQ` }, payload: { dossierCode: 'X' } });
  t.equal(unknownRequest.status, 422);

  // 3. A type in the form of a type but not offered.
  const unoffered = await post('so-tp-qlvb', '/v1/messages', { type: `${MARK.toLowerCase()}.send`, to: { member: '000.00.12.H49' }, payload: {} });
  t.equal(unoffered.status, 400);
  t.equal(unoffered.body.code, 'UNKNOWN_MESSAGE_TYPE');

  // 4. A refusal of a known type to a known member keeps both (what operators need).
  const forbidden = await post('so-tp-qlvb', '/v1/messages', { type: 'notice.send', to: { member: '000.00.00.H49', service: 'leadership-notice' }, payload: { subject: 's', body: 'b' } });
  t.equal(forbidden.status, 403);

  const topic = topicsFor(bus.config.topicPrefix).events;
  const rejected = await eventually(async () => {
    const records = await readTopic(bus.config.kafkaBrokers, topic, 1, 5000);
    const events = records.map((r) => ({ raw: r.value, event: JSON.parse(r.value) as { event: string; detail: Record<string, unknown> } })).filter((e) => e.event.event === 'rejected');
    return events.length >= 6 ? events : null;
  });
  t.equal(rejected.length, 6, 'each refusal is audited once');
  for (const { raw } of rejected) {
    t.notOk(raw.toLowerCase().includes(MARK.toLowerCase()), `no caller text that the bus could not vouch for: ${raw.slice(0, 200)}`);
    t.notOk(raw.includes('079123456789'), 'no id number');
    t.ok(raw.length < 4000, `the entry stays small (${raw.length} bytes)`);
  }
  const details = rejected.map((e) => e.event.detail);
  t.ok(details.some((d) => d.code === 'SERVICE_FORBIDDEN' && d.type === 'notice.send' && d.toMember === '000.00.00.H49'), 'a known type and member are kept');
  t.ok(details.some((d) => d.code === 'UNKNOWN_MEMBER' && d.type === 'notice.send' && d.toMember === '(not in the directory)'), 'an unknown member is named as such');
  t.ok(details.some((d) => d.code === 'UNKNOWN_MESSAGE_TYPE' && d.type === '(not offered)'), 'an unknown type is named as such');
});
