// A handle() that throws something other than an Error (`throw undefined`, `throw null`, a plain
// object): the message is retried and dead-lettered with a reason saying what was thrown, and the
// connector keeps delivering. Before, `undefined` and `null` left the record unfinished in the
// runner for good: no event, no dead letter, its partition's offsets never committed again.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'throws-non-error',
  async handle(message) {
    switch (message.data.text) {
      case 'undefined': throw undefined;
      case 'null': throw null;
      case 'object': throw { code: 'E_TARGET', status: 503 };
      case 'refusal': throw { message: 'not an Error', retryable: false };
      default: return { detail: { ok: true } };
    }
  },
});
`;

t.test('whatever handle() throws, the message is retried and dead-lettered with a reason', async (t) => {
  const { send, final } = await startInlineConnector(t, 'throws-non-error', SOURCE);
  const cases: Array<[string, RegExp, number]> = [
    ['undefined', /^handle\(\) threw undefined instead of an Error$/, 2],
    ['null', /^handle\(\) threw null instead of an Error$/, 2],
    ['object', /^handle\(\) threw an object instead of an Error: \{"code":"E_TARGET","status":503\}$/, 2],
    ['refusal', /^handle\(\) threw an object instead of an Error: \{"message":"not an Error","retryable":false\}$/, 0],
  ];
  const ids = await Promise.all(cases.map(([text]) => send(text)));
  for (const [i, [text, reason, retries]] of cases.entries()) {
    const view = await final(ids[i]);
    t.equal(view.status, 'dead_lettered', `${text}: dead-lettered`);
    const failures = view.events.filter((e) => e.event === 'delivery_failed');
    t.equal(failures.length, retries, `${text}: retried ${retries} times (retryable: false is kept)`);
    for (const f of failures) t.match(f.detail.reason, reason, `${text}: each failure says what handle() threw`);
    t.match(view.events.at(-1)!.detail.reason, retries ? new RegExp(reason.source.slice(1)) : reason, `${text}: so does the dead letter`);
  }
  t.equal((await final(await send('ok'))).status, 'delivered', 'the connector keeps delivering');
});
