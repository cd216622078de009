// What an abandoned attempt (past LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS) does after it was abandoned.
// ctx.deliver takes no signal, so a connector cannot stop it as the guide asks ("pass the signal
// to your calls"): before, a handler that went on after the abort still POSTed the message to the
// target beside the next attempt (a duplicate the runtime itself made), and its ctx.emitStatus()
// landed on the timeline after the message's outcome. The runtime now ends the abandoned attempt's
// own calls: ctx.deliver follows the attempt's signal, and emitStatus/reply/depositToInbox refuse.
import t from 'tap';
import { startTestReceiver } from '@lgsp/sdk/testing';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';
import { AttemptTimeLimit } from '../services/platform/attempt-time-limit.js';

const SOURCE = `import { defineConnector } from '${SDK}';
const seen = (globalThis.__abandonedSeen ??= { afterAbort: [] });
export default defineConnector({
  name: 'slow-then-sends',
  async handle(message, ctx) {
    const url = process.env.ABANDONED_TEST_RECEIVER;
    if (ctx.attempt === 1) {
      // Slow on the first attempt, past the limit, not listening to the signal; then carries on.
      await new Promise((r) => setTimeout(r, 1800));
      for (const call of [() => ctx.deliver({ url, envelope: message }), () => ctx.emitStatus({ late: true })]) {
        try { await call(); seen.afterAbort.push('done'); } catch (err) { seen.afterAbort.push(err.message); }
      }
      return { detail: { late: true } };
    }
    await ctx.deliver({ url, envelope: message });
    return { detail: { attempt: ctx.attempt } };
  },
});
`;

t.test("an abandoned attempt's deliveries and status events do not happen", async (t) => {
  const receiver = await startTestReceiver();
  t.teardown(() => receiver.close());
  process.env.ABANDONED_TEST_RECEIVER = receiver.url;
  const c = await startInlineConnector(t, 'slow-then-sends', SOURCE, { config: { connectorAttemptTimeoutMs: 1000, deliveryTimeoutMs: 500, retryBaseDelayMs: 3000 } });
  const id = await c.send('x');
  const view = await c.final(id, 20_000);
  t.equal(view.status, 'delivered');
  // Let the abandoned first attempt finish its calls.
  await new Promise((r) => setTimeout(r, 2500));
  const seen = (globalThis as { __abandonedSeen?: { afterAbort: string[] } }).__abandonedSeen!;
  t.equal(seen.afterAbort.length, 2, 'the abandoned attempt tried both calls');
  for (const outcome of seen.afterAbort) t.match(outcome, /attempt was abandoned/, 'each refused, saying why');
  t.equal(receiver.requests.length, 1, 'the target got the message once, from the attempt that counts');
  const final = await c.bus.client('so-tttt-qlvb').status(id);
  t.notOk(final.body.events.some((e: { event: string }) => e.event === 'status'), 'no status event from the abandoned attempt');
});

t.test('AttemptTimeLimit: a signal first read after the abandonment is already aborted', async (t) => {
  const limit = new AttemptTimeLimit(50, new AbortController().signal);
  let read!: () => AbortSignal;
  await t.rejects(limit.run((attempt) => { read = () => attempt.signal(); return new Promise(() => undefined); }), /attempt was abandoned/);
  t.equal(read().aborted, true);
  limit.stop();
});

t.test('the SDK harness refuses them the same way', async (t) => {
  const { defineConnector } = await import('@lgsp/sdk');
  const { testConnector } = await import('@lgsp/sdk/testing');
  const late: string[] = [];
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  const connector = defineConnector({
    name: 'slow-then-sends',
    async handle(message, ctx) {
      await new Promise((r) => setTimeout(r, 400));
      for (const call of [() => ctx.deliver({ url: ctx.service.endpoint!, envelope: message }), () => ctx.emitStatus({ late: true })]) {
        try { await call(); late.push('done'); } catch (err) { late.push((err as Error).message); }
      }
      finished();
    },
  });
  const harness = await testConnector(connector, { receiver: true, attemptTimeoutMs: 100 });
  t.teardown(() => harness.stop());
  t.equal((await harness.send('slow.send', {})).outcome, 'retried');
  await done;
  t.equal(late.length, 2);
  for (const outcome of late) t.match(outcome, /attempt was abandoned/);
  t.equal(harness.receiver!.requests.length, 0, 'nothing delivered');
  t.same(harness.statuses, []);
});
