// A request somebody waits on (POST /v1/requests) is retried after a short pause while its
// caller may still be waiting, not on the connector's exponential backoff: with the default
// delays (500 ms doubling) a request that failed four times had its fifth attempt about 6 s
// after the first, past a 3 s answer and close to the default 10 s wait (seen in
// test/timed/retry-storm.test.ts). A plain message of the same connector keeps the backoff.
import t from 'tap';
import { REQUEST_QUICK_RETRY_MAX_STREAK, REQUEST_RETRY_MAX_MS, requestRetryDelayMs } from '../services/runner/retry-policy.js';
import { SDK, startInlineConnector } from './helpers/inline-connector.js';

const SOURCE = `import { defineConnector, RetryableError } from '${SDK}';
const attempts = new Map();
export default defineConnector({
  name: 'quick-ask',
  async handle(message, ctx) {
    const n = (attempts.get(message.data.text) ?? 0) + 1;
    attempts.set(message.data.text, n);
    if (n <= 4) throw new RetryableError('portal busy (attempt ' + n + ')');
    await ctx.reply({ text: 'answer to ' + message.data.text });
  },
});
`;

t.test('requestRetryDelayMs: short while the caller may wait, the backoff otherwise', async (t) => {
  const base = { acceptedAt: 1_000_000, now: 1_002_000, waitWindowMs: 30_000, failureStreak: 3 };
  t.equal(requestRetryDelayMs(8000, base, () => 1), REQUEST_RETRY_MAX_MS, 'capped, however far the backoff has grown');
  t.equal(requestRetryDelayMs(8000, base, () => 0), REQUEST_RETRY_MAX_MS / 2, 'jittered: half fixed, half random');
  t.equal(requestRetryDelayMs(90, base, () => 1), 90, 'never longer than the backoff itself');
  t.equal(requestRetryDelayMs(8000, { ...base, retryAfterMs: 2000 }, () => 0), 2000, "the receiver's Retry-After stays a floor");
  t.equal(requestRetryDelayMs(8000, { ...base, retryAfterMs: Number.NaN }, () => 0), REQUEST_RETRY_MAX_MS / 2, 'a Retry-After that is no number is no floor');
  t.equal(requestRetryDelayMs(8000, { ...base, now: base.acceptedAt + 30_000 }), 8000, 'nobody waits past the longest wait: the backoff');
  t.equal(requestRetryDelayMs(8000, { ...base, failureStreak: REQUEST_QUICK_RETRY_MAX_STREAK }), 8000, 'a destination failing every attempt gets the backoff');
});

t.test('a request that fails four times is retried within a quarter second each time and answered', async (t) => {
  const c = await startInlineConnector(t, 'quick-ask', SOURCE, {
    requestReply: true,
    // The bus's defaults, not the short test delays: the backoff this test keeps requests out of.
    config: { retryBaseDelayMs: 500, retryMaxDelayMs: 30_000, retryMaxAttempts: 10 },
  });
  const client = c.bus.client('so-tttt-qlvb');
  const r = await client.request('POST', '/v1/requests', { type: 'quick-ask.test', to: { member: '000.00.00.H49', service: 'quick-ask' }, payload: { text: 'q1' } }, { prefer: 'wait=20' });
  t.equal(r.status, 200, JSON.stringify(r.body));
  t.same(r.body.reply, { text: 'answer to q1' });
  const id = (r.body.id ?? r.body.messageId) as string;
  const view = (await c.final(id)).events;
  const failures = view.filter((e) => e.event === 'delivery_failed');
  t.equal(failures.length, 4, 'four failed attempts, then the answer');
  for (const f of failures) {
    const at = Date.parse((f as unknown as { at: string }).at);
    const next = Date.parse(f.detail.nextAttemptAt as string);
    t.ok(next - at <= REQUEST_RETRY_MAX_MS + 50, `attempt ${f.detail.attempt}: next attempt ${next - at} ms after the failure`);
  }
});

t.test('a plain message of a request/reply-free connector keeps the backoff', async (t) => {
  const c = await startInlineConnector(t, 'slow-plain', SOURCE.replace("'quick-ask'", "'slow-plain'").replace("await ctx.reply({ text: 'answer to ' + message.data.text });", ''), {
    config: { retryBaseDelayMs: 500, retryMaxDelayMs: 30_000, retryMaxAttempts: 10 },
  });
  const id = await c.send('m1');
  const view = await c.final(id, 60_000);
  t.equal(view.status, 'delivered');
  const gaps = view.events.filter((e) => e.event === 'delivery_failed').map((f) => Date.parse(f.detail.nextAttemptAt as string) - Date.parse((f as unknown as { at: string }).at));
  t.equal(gaps.length, 4);
  t.ok(gaps[3] >= 500, `the fourth retry waits on the backoff (${gaps.join(', ')} ms)`);
});
