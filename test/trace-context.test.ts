// A client's traceparent reaches the bus only when it is a W3C traceparent: record headers are
// in clear in Kafka (only the payload is sealed), so free text a client puts in that header —
// a citizen's name, an id number — must not be written there.
import t from 'tap';
import { forwardableTraceparent, traceHeader } from '../services/platform/trace-context.js';
import { topicsFor } from '../services/platform/topics.js';
import { startTestBus } from './helpers/test-bus.js';
import { readTopic } from './helpers/topic-reader.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

t.test('only a well-formed traceparent is carried', async (t) => {
  t.equal(forwardableTraceparent(VALID), VALID);
  t.equal(forwardableTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later-fields'), '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'a later version: the shared fields only');
  const refused = [
    undefined,
    '',
    'Nguyễn Văn An 049090001234',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01', // upper case
    `${VALID}-extra`, // version 00 has exactly four fields
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    `${VALID}, ${VALID}`, // two headers joined by Node
    [VALID, VALID],
    `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-${'x'.repeat(600)}`,
  ];
  for (const value of refused) t.equal(forwardableTraceparent(value), undefined, JSON.stringify(value)?.slice(0, 60) ?? 'absent');
  t.same(traceHeader('Nguyễn Văn An'), {}, 'no header at all rather than an empty one');
  t.same(traceHeader(VALID), { traceparent: VALID });
});

t.test('a traceparent holding personal data is not written to the message topic', async (t) => {
  const bus = await startTestBus(t, { name: 'trace-context', runner: false });
  const sender = bus.client('so-tttt-qlvb');
  const marker = 'PIITRACE-Phạm-Thị-Diệu-049777000111';
  const send = async (traceparent: string) => {
    const r = await sender.request('POST', '/v1/messages', {
      type: 'notice.send',
      to: { member: '000.00.15.H49', service: 'notice' },
      payload: { subject: 'Thông báo', body: 'Nội dung' },
    }, { traceparent });
    t.equal(r.status, 202, 'accepted whatever its traceparent (an invalid one is ignored, as W3C says)');
    return r.body.id as string;
  };
  const badId = await send(Buffer.from(marker, 'utf8').toString('latin1'));
  const goodId = await send(VALID);

  const records = await readTopic(bus.config.kafkaBrokers, topicsFor(bus.config.topicPrefix).message('notice'), 2);
  const byId = new Map(records.map((r) => [r.headers['lgsp-id'], r]));
  t.equal(byId.get(goodId)?.headers.traceparent, VALID, 'a valid traceparent is carried as it was sent');
  t.ok(byId.has(badId), 'the other message is on the topic');
  t.notOk('traceparent' in (byId.get(badId)?.headers ?? {}), 'without the invalid traceparent');
  const everything = records.map((r) => JSON.stringify(r)).join('\n');
  for (const part of ['PIITRACE', '049777000111']) t.notOk(everything.includes(part), `"${part}" is in no record`);
});
