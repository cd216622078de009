// The ledger stores where each partition's batch ended (read_model_offsets) even when the batch
// brought nothing to apply (records that fail verification are ignored). Left behind, the stored
// offset would trail the group's, and the next assignment would take it for a database restored
// from an older dump: a warning and the same records read again each time (restore-catch-up.ts).
import t from 'tap';
import { topicsFor } from '../services/platform/topics.js';
import { readModelOffsets } from '../services/platform/read-model-offsets.js';
import { eventually, startTestBus } from './helpers/test-bus.js';
import { testKafka } from './helpers/test-kafka.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

t.test('a batch of unverified records still stores its offset', async (t) => {
  const bus = await startTestBus(t, { name: 'ledger-offsets-unapplied' });
  const topics = topicsFor(bus.config.topicPrefix);
  const producer = testKafka('ledger-offsets-unapplied').producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  // Unsigned: the ledger ignores it (only the platform writes timelines).
  const [written] = await producer.send({ topic: topics.events, messages: [{ partition: 1, value: JSON.stringify({ id: 'forged', event: 'delivered', at: new Date().toISOString(), actor: 'x', messageId: 'm-1' }) }] });
  const next = String(BigInt(written.baseOffset!) + 1n);
  const stored = await eventually(async () => (await readModelOffsets(bus.db, `${bus.config.topicPrefix}lgsp-ledger`)).find((o) => o.topic === topics.events && o.partition === 1 && o.nextOffset === next), 20_000);
  t.ok(stored, `the ledger's offset of ${topics.events}/1 is ${next}, past the record it ignored`);
  t.equal((await bus.db.query('SELECT 1 FROM console_message_events WHERE event_id = $1', ['forged'])).rowCount, 0, 'and the record was not applied');
});
