// RetryableError's retryAfterMs as an integrator may pass it: NaN (a header parsed with Number()
// that was not a number), negative, ten years. Each message is retried on the usual backoff
// (a floor of NaN or below zero is no floor; one beyond the longest retry delay is capped to it)
// and dead-lettered when its attempts are spent. Before, NaN made the next attempt's time an
// invalid date, the runner's bookkeeping threw and the record was never finished: no event, no
// retry, no dead letter, its partition's offsets never committed again.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector, RetryableError } from '${SDK}';
const floors = { nan: Number.NaN, text: 'soon', negative: -5000, decade: 10 * 365 * 24 * 3600 * 1000 };
export default defineConnector({
  name: 'retry-after-odd',
  async handle(message) {
    const floor = floors[message.data.text];
    if (floor !== undefined) throw new RetryableError('target busy (' + message.data.text + ')', floor);
    return { detail: { ok: true } };
  },
});
`;

t.test('an unusable retryAfterMs is ignored or capped, never stops the retries', async (t) => {
  // The test bus retries after 100 ms doubling up to 1 s, three attempts in all.
  const { send, final } = await startInlineConnector(t, 'retry-after-odd', SOURCE);
  const cases = ['nan', 'text', 'negative', 'decade'];
  const ids = await Promise.all(cases.map(send));
  for (const [i, text] of cases.entries()) {
    const view = await final(ids[i]);
    t.equal(view.status, 'dead_lettered', `${text}: dead-lettered once its attempts are spent`);
    const failures = view.events.filter((e) => e.event === 'delivery_failed');
    t.equal(failures.length, 2, `${text}: retried twice`);
    for (const f of failures) {
      t.match(f.detail.reason, `target busy (${text})`);
      const wait = Date.parse(f.detail.nextAttemptAt as string) - Date.parse((f as unknown as { at: string }).at);
      t.ok(wait >= 0 && wait <= 1500, `${text}: next attempt within the longest retry delay (${wait} ms)`);
    }
  }
  t.equal((await final(await send('ok'))).status, 'delivered', 'the connector keeps delivering');
});
