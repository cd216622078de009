// An operator action refused because its audit intent was not acknowledged in time: the intent
// may still be appended (a broker that hung, then woke), so a follow-up keyed like it says the
// action was not carried out, queued until Kafka takes it. The producer here is a recording
// stand-in for BatchingProducer; what reaches Kafka is its concern (kafka-transport tests).
import t from 'tap';
import { OperatorAudit } from '../services/console/operator-audit.js';
import type { BatchingProducer, OutgoingRecord } from '../services/platform/kafka-transport.js';
import { topicsFor } from '../services/platform/topics.js';
import { ProblemError } from '../services/platform/problem.js';
import type { Caller } from '../services/platform/access-token.js';

const caller = { clientId: 'lgsp-operator', member: '000.00.00.H49', roles: ['operator'] } as unknown as Caller;

function recordingProducer(failFirst: boolean) {
  const sends: { records: OutgoingRecord[]; untilAcknowledged: boolean }[] = [];
  const producer = {
    async send(records: OutgoingRecord[], opts: { untilAcknowledged?: boolean } = {}) {
      sends.push({ records, untilAcknowledged: opts.untilAcknowledged === true });
      if (failFirst && sends.length === 1) throw new Error('Kafka did not acknowledge within 10000 ms');
    },
  } as unknown as BatchingProducer;
  return { producer, sends };
}

const events = (records: OutgoingRecord[]) => records.map((r) => ({ key: r.key, event: JSON.parse(String(r.value)) }));

t.test('an intent Kafka did not acknowledge: 503, and a follow-up says the action was not carried out', async (t) => {
  const { producer, sends } = recordingProducer(true);
  const audit = new OperatorAudit(producer, topicsFor(''));
  const refused = await audit.record(caller, 'connector_pause', { connector: 'relay' }, 'connector:relay').catch((err: unknown) => err);
  t.ok(refused instanceof ProblemError && refused.status === 503 && refused.code === 'AUDIT_UNAVAILABLE', '503 AUDIT_UNAVAILABLE');
  t.equal(sends.length, 2, 'the intent, then its follow-up');
  const [intent] = events(sends[0].records);
  const [followUp] = events(sends[1].records);
  t.equal(sends[1].untilAcknowledged, true, 'the follow-up is not dropped after the acknowledgement timeout');
  t.equal(followUp.key, 'connector:relay', 'keyed like the intent: chained after it');
  t.match(followUp.event, { event: 'operator_action', actor: 'console/lgsp-operator', detail: { action: 'connector_pause', connector: 'relay', intent: intent.event.id, outcome: 'not_carried_out', reason: /not carried out.*did not acknowledge/ } });
  t.not(followUp.event.id, intent.event.id);
});

t.test('a bulk replay refused: one follow-up per intent, each with its own key', async (t) => {
  const { producer, sends } = recordingProducer(true);
  const audit = new OperatorAudit(producer, topicsFor(''));
  const items = ['m1', 'm2'].map((id) => ({ detail: { messageId: id }, orderKey: id }));
  const refused = await audit.recordEach(caller, 'replay', items).catch((err: unknown) => err);
  t.ok(refused instanceof ProblemError && refused.status === 503, '503');
  const intents = events(sends[0].records);
  const followUps = events(sends[1].records);
  t.same(followUps.map((f) => f.key), ['m1', 'm2']);
  t.same(followUps.map((f) => f.event.detail.intent), intents.map((i) => i.event.id));
  t.ok(followUps.every((f) => f.event.detail.outcome === 'not_carried_out'));
});

t.test('an acknowledged intent has no follow-up', async (t) => {
  const { producer, sends } = recordingProducer(false);
  const audit = new OperatorAudit(producer, topicsFor(''));
  const intent = await audit.record(caller, 'login');
  t.equal(sends.length, 1);
  t.equal(events(sends[0].records)[0].event.id, intent.id);
});
