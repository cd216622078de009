// A connector whose handle() never returns and ignores its abort signal held its record for
// good: no event, no retry, no dead letter, and the record's key and partition stuck behind it.
// Each call of handle() now has a time limit (LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS): past it the
// attempt is abandoned (its signal aborted), fails with a reason naming the limit and is retried.
import t from 'tap';
import { loadConfig } from '../services/platform/config.js';
import { AttemptTimeLimit } from '../services/platform/attempt-time-limit.js';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector } from '${SDK}';
const seen = (globalThis.__attemptLimitSeen ??= { aborted: [] });
export default defineConnector({
  name: 'hangs-once',
  async handle(message, ctx) {
    if (ctx.attempt > 1) return { detail: { ok: true } };
    if (message.data.text === 'listens') {
      const signal = ctx.signal;
      return new Promise((_, reject) => signal.addEventListener('abort', () => {
        seen.aborted.push(message.data.text);
        reject(new Error('stopped on the signal'));
      }));
    }
    // Never settles, and never looks at ctx.signal.
    return new Promise(() => undefined);
  },
});
`;

t.test('an attempt that never finishes is abandoned after the limit and retried', async (t) => {
  const c = await startInlineConnector(t, 'hangs-once', SOURCE, { config: { connectorAttemptTimeoutMs: 1000, deliveryTimeoutMs: 500 } });
  const began = Date.now();
  const ignores = await c.send('ignores');
  const listens = await c.send('listens');
  for (const id of [ignores, listens]) {
    const view = await c.final(id, 20_000);
    t.equal(view.status, 'delivered', `${id} delivered on its second attempt`);
    const failed = view.events.filter((e) => e.event === 'delivery_failed');
    t.equal(failed.length, 1);
    t.match(failed[0].detail.reason, /handle\(\) did not finish within 1\.0 s \(LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS\)/);
    t.equal(failed[0].detail.retryable, true);
  }
  t.ok(Date.now() - began < 15_000, 'abandoned after about the limit, not held');
  t.same((globalThis as { __attemptLimitSeen?: { aborted: string[] } }).__attemptLimitSeen?.aborted, ['listens'], "a handler listening to ctx.signal sees the abandoned attempt's abort");
});

t.test('AttemptTimeLimit: a call that finishes in time is untouched', async (t) => {
  const limit = new AttemptTimeLimit(1000, new AbortController().signal);
  t.equal(await limit.run(async () => 'done'), 'done');
  await t.rejects(limit.run(async () => { throw new Error('its own failure'); }), /its own failure/);
  await t.rejects(limit.run(() => { throw new Error('thrown before a promise'); }), /thrown before a promise/);
  const stop = new AbortController();
  const stopping = new AttemptTimeLimit(60_000, stop.signal);
  const seen = stopping.run((attempt) => new Promise((resolve) => attempt.signal().addEventListener('abort', () => resolve('aborted by the stop'))));
  stop.abort();
  t.equal(await seen, 'aborted by the stop', "the runner's stop aborts the attempt's signal");
  stopping.stop();
});

t.test('the limit must be longer than a delivery may take', async (t) => {
  t.throws(() => loadConfig({ connectorAttemptTimeoutMs: 5000, deliveryTimeoutMs: 10_000 }, {}), /connectorAttemptTimeoutMs \(LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS, 5000\) must be longer than deliveryTimeoutMs \(LGSP_DELIVERY_TIMEOUT_MS, 10000\)/);
  t.equal(loadConfig({}, {}).connectorAttemptTimeoutMs, 60_000);
  t.throws(() => loadConfig({}, { LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS: '500' }), /LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS/);
});
