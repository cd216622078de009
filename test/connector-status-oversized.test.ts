// A ctx.emitStatus() detail the events topic cannot hold (over 64 KiB as JSON, as for a delivered
// event's detail; or no JSON at all) is refused at the call, naming the limit, and the message is
// dead-lettered with that reason at once: a retry would emit the same detail. Before, a status
// over the broker's message size went into the runner's produce batch and failed it, with every
// outcome batched beside it, on each retry; one without JSON was retried until the budget ran out.
import t from 'tap';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';
import { defineConnector } from '@lgsp/sdk';
import { testConnector } from '@lgsp/sdk/testing';

const SOURCE = `import { defineConnector } from '${SDK}';
export default defineConnector({
  name: 'loud-status',
  async handle(message, ctx) {
    if (message.data.text === 'huge') await ctx.emitStatus({ log: 'x'.repeat(2 * 1024 * 1024) });
    else if (message.data.text === 'bigint') await ctx.emitStatus({ n: 10n });
    else await ctx.emitStatus({ receipt: 'R-' + message.data.text });
    return { detail: { ok: true } };
  },
});
`;

t.test('an oversized or non-JSON status is refused and dead-lettered; the others are delivered', async (t) => {
  const c = await startInlineConnector(t, 'loud-status', SOURCE);
  const huge = await c.send('huge');
  const bigint = await c.send('bigint');
  const others = await Promise.all(['a', 'b', 'c'].map((x) => c.send(x)));
  const hugeView = await c.final(huge);
  t.equal(hugeView.status, 'dead_lettered');
  t.match(hugeView.events.at(-1)!.detail.reason, /ctx\.emitStatus\(\) detail is \d+ characters as JSON, over the 65536 a status event may hold/);
  t.equal(hugeView.events.filter((e) => e.event === 'delivery_failed').length, 0, 'at once');
  const bigintView = await c.final(bigint);
  t.equal(bigintView.status, 'dead_lettered');
  t.match(bigintView.events.at(-1)!.detail.reason, /ctx\.emitStatus\(\) detail is not JSON: .*BigInt/);
  for (const id of others) {
    const view = await c.final(id);
    t.equal(view.status, 'delivered', `${id} delivered`);
    t.ok(view.events.some((e) => e.event === 'status' && typeof e.detail.receipt === 'string'), 'with its status');
  }
});

t.test('the SDK harness refuses the same statuses', async (t) => {
  const connector = defineConnector({
    name: 'loud-status',
    async handle(message, ctx) {
      await ctx.emitStatus((message.data as { big: boolean }).big ? { log: 'x'.repeat(70 * 1024) } : { ok: 1 });
    },
  });
  const harness = await testConnector(connector);
  t.teardown(() => harness.stop());
  const big = await harness.send('loud.status', { big: true });
  t.equal(big.outcome, 'dead_lettered');
  t.match(big.error?.message, /over the 65536 a status event may hold/);
  t.same(big.statuses, [], 'not recorded');
  t.equal((await harness.send('loud.status', { big: false })).outcome, 'delivered');
});
