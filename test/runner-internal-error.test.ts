// An error of the runner's own bookkeeping around a record (here injected where a record starts
// to run) was dropped without a word: the record never finished, nothing was logged, and its key
// and its partition's offsets were stuck for good (two connector faults walked into it). Now the
// record stays uncommitted, runs again after a growing pause, the connector's status names the
// error while it lasts, and once it passes the message is delivered, once.
import t from 'tap';
import { eventually } from './helpers/test-bus.js';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector } from '${SDK}';
const calls = (globalThis.__internalErrorCalls ??= []);
export default defineConnector({
  name: 'bookkeeping-fault',
  async handle(message) {
    calls.push(message.data.text);
    return { detail: { ok: true } };
  },
});
`;

t.test('a record whose bookkeeping fails inside the runner runs again and is delivered once', async (t) => {
  const c = await startInlineConnector(t, 'bookkeeping-fault', SOURCE);
  const worker = c.bus.runners[0].slots.get('bookkeeping-fault')!.worker! as unknown as { unspill(): void; lastError: string | null };
  const original = worker.unspill.bind(worker);
  let failing = true;
  let failures = 0;
  worker.unspill = () => {
    if (failing) {
      failures++;
      throw new Error('injected bookkeeping fault');
    }
    original();
  };
  const id = await c.send('once');
  await eventually(async () => failures >= 2, 20_000);
  t.match(worker.lastError, new RegExp(`^runner error handling ${id}: injected bookkeeping fault$`), "the connector's status names the message and the error");
  t.same((globalThis as { __internalErrorCalls?: string[] }).__internalErrorCalls ?? [], [], 'nothing was attempted meanwhile');
  failing = false;
  const view = await c.final(id, 20_000);
  t.equal(view.status, 'delivered');
  t.same((globalThis as { __internalErrorCalls?: string[] }).__internalErrorCalls, ['once'], 'handled once');
  t.equal(worker.lastError, null, 'the error is cleared once the record ran through');
});
