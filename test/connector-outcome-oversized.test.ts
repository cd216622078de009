// A handle() whose outcome cannot go on the events topic as it is: a detail of 2 MB, a detail
// JSON cannot write (BigInt, a cycle), an error message of 2 MB. The message still ends delivered
// or dead-lettered, with its timeline saying what was left out, and the connector's other
// messages keep being delivered.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector, PermanentError } from '${SDK}';
export default defineConnector({
  name: 'outcome-odd',
  async handle(message) {
    switch (message.data.text) {
      case 'huge': return { detail: { receipt: 'R-1', blob: 'x'.repeat(2_000_000) } };
      case 'bigint': return { detail: { receipt: 'R-2', amount: 10n } };
      case 'cycle': { const detail = { receipt: 'R-3' }; detail.self = detail; return { detail }; }
      case 'long-refusal': throw new PermanentError('refused: ' + 'y'.repeat(2_000_000));
      case 'long-failure': throw new Error('down: ' + 'z'.repeat(2_000_000));
      default: return { detail: { ok: true } };
    }
  },
});
`;

t.test('an outcome too big or not JSON still ends the message, and the connector goes on', async (t) => {
  const { send, final } = await startInlineConnector(t, 'outcome-odd', SOURCE);

  await t.test('a detail too big or not JSON is left out of the delivered event, saying so', async (t) => {
    const ids = Object.fromEntries(await Promise.all(['huge', 'bigint', 'cycle'].map(async (k) => [k, await send(k)] as const)));
    for (const k of ['huge', 'bigint', 'cycle']) {
      const view = await final(ids[k]);
      t.equal(view.status, 'delivered', `${k}: delivered`);
      const delivered = view.events.find((e) => e.event === 'delivered')!;
      t.equal(delivered.detail.connector, 'outcome-odd', `${k}: the runner's own detail is kept`);
      t.match(delivered.detail.detailOmitted, /^the connector's detail was left out: /, `${k}: the timeline says the connector's detail was left out`);
      t.equal(view.events.filter((e) => e.event === 'delivery_failed').length, 0, `${k}: no failure recorded for a delivered message`);
    }
    t.equal((await final(await send('ok'))).status, 'delivered', 'the connector keeps delivering');
  });

  await t.test('an error message of 2 MB is cut in every event, saying so', async (t) => {
    const ids = Object.fromEntries(await Promise.all(['long-refusal', 'long-failure'].map(async (k) => [k, await send(k)] as const)));
    for (const k of ['long-refusal', 'long-failure']) {
      const view = await final(ids[k]);
      t.equal(view.status, 'dead_lettered', `${k}: dead-lettered`);
      for (const e of view.events.filter((e) => e.event !== 'accepted')) {
        t.ok((e.detail.reason as string).length <= 4100, `${k}: ${e.event} reason cut to a readable length`);
        t.match(e.detail.reason, /… \(cut from 20000\d\d characters\)$/, `${k}: and says it was cut`);
      }
    }
    t.equal((await final(await send('ok'))).status, 'delivered', 'the connector keeps delivering');
  });
});
