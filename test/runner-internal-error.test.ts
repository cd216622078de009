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
  let failing: Error | null = new Error('injected bookkeeping fault');
  let failures = 0;
  worker.unspill = () => {
    if (failing) {
      failures++;
      throw failing;
    }
    original();
  };
  const id = await c.send('once');
  await eventually(async () => failures >= 2, 20_000);
  t.match(worker.lastError, new RegExp(`^runner error handling ${id}: injected bookkeeping fault$`), "the connector's status names the message and the error");
  t.same((globalThis as { __internalErrorCalls?: string[] }).__internalErrorCalls ?? [], [], 'nothing was attempted meanwhile');
  failing = null;
  const view = await c.final(id, 20_000);
  t.equal(view.status, 'delivered');
  t.same((globalThis as { __internalErrorCalls?: string[] }).__internalErrorCalls, ['once'], 'handled once');
  t.equal(worker.lastError, null, 'the error is cleared once the record ran through');

  // An engine error's text may quote what it choked on (here a fake citizen ID): the status, which
  // observers read, names its class; the runner's log has the text.
  try {
    JSON.parse('CCCD-079099000123');
  } catch (err) {
    failing = err as Error;
  }
  failures = 0;
  const second = await c.send('twice');
  await eventually(async () => failures >= 1, 20_000);
  t.equal(worker.lastError, `runner error handling ${second}: SyntaxError (its message is withheld; the runner's log names where it was thrown)`, "an engine error's text stays out of the status");
  failing = null;
  t.equal((await c.final(second, 20_000)).status, 'delivered');
});
