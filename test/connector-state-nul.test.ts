// ctx.state with a NUL character (U+0000) in a key or in a string of the value: PostgreSQL's text
// and jsonb cannot hold it. The harness's in-memory state took it, the runner's failed with a
// database error retried for the whole retry budget; both now refuse it at once with the same
// TypeError naming the rule, so the unit test shows what the runner will do.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';
import { memoryConnectorState } from '@lgsp/sdk/state';

const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'state-nul',
  async handle(message, ctx) {
    const tries = {
      key: () => ctx.state.set('record:a\\u0000b', 1),
      value: () => ctx.state.set('record:1', { name: 'a\\u0000b' }),
      cas: () => ctx.state.compareAndSet('record:2', undefined, ['\\u0000']),
      fine: () => ctx.state.set('record:3', { name: 'Nguyễn', note: 'the text \\\\u0000 is no NUL' }),
    };
    try {
      await tries[message.data.text]();
      return { detail: { stored: true } };
    } catch (err) {
      return { detail: { error: err.name + ': ' + err.message, isTypeError: err instanceof TypeError } };
    }
  },
});
`;

const KEY = /^TypeError: ctx\.state: a key is a non-empty string of at most 512 characters, without NUL \(U\+0000\)$/;
const VALUE = /^TypeError: ctx\.state: a value may hold no NUL \(U\+0000\) in its strings or keys$/;

t.test('the harness state refuses NUL like the runner', async (t) => {
  const state = memoryConnectorState();
  await t.rejects(state.set('a\u0000b', 1), TypeError);
  await t.rejects(state.set('k', { name: 'a\u0000b' }), TypeError);
  await t.rejects(state.compareAndSet('k', undefined, ['\u0000']), TypeError);
  await state.set('k', { name: 'Nguyễn', note: 'the text \\u0000 is no NUL' });
  t.same(await state.get('k'), { name: 'Nguyễn', note: 'the text \\u0000 is no NUL' });
});

t.test('the runner state refuses NUL at once, with the rule', async (t) => {
  const { send, final } = await startInlineConnector(t, 'state-nul', SOURCE);
  const cases: Array<[string, RegExp | null]> = [['key', KEY], ['value', VALUE], ['cas', VALUE], ['fine', null]];
  const ids = await Promise.all(cases.map(([text]) => send(text)));
  for (const [i, [text, error]] of cases.entries()) {
    const delivered = (await final(ids[i])).events.find((e) => e.event === 'delivered')!;
    if (error) {
      t.match(delivered.detail.error, error, `${text}: refused with the rule`);
      // The SDK's UsageError: a TypeError to connector code, whose message the bus keeps.
      t.equal(delivered.detail.isTypeError, true, `${text}: still a TypeError`);
    }
    else t.same(delivered.detail.stored, true, 'a value without NUL is stored');
  }
});
