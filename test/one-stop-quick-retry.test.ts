// The one-stop-shop connector asks the portal again at once when a call fails in transit (a
// third of calls failing at random should not cost the bus's backoff), but not when the portal
// fails every call: then each delivery attempt makes one call and the bus's backoff paces them,
// instead of a dozen calls per attempt for every parked message.
import t from 'tap';
import { RetryableError, PermanentError } from '@lgsp/sdk';
import { askAgain, QUICK_RETRY_STREAK_LIMIT, type HandlerDeps } from '../connectors/one-stop-shop/dossier-handlers.js';
import type { PortalAnswer } from '../connectors/one-stop-shop/portal-client.js';

const deps = (): HandlerDeps => ({
  client: undefined as never,
  lookupMaxAgeMs: 60_000,
  quickRetryWindowMs: 5_000,
  requestTimeoutMs: 1000,
  failureStreak: { calls: 0 },
});
const OK: PortalAnswer = { error_code: '0' } as PortalAnswer;
const signal = new AbortController().signal;

t.test('a call failing now and then is asked again until it succeeds', async (t) => {
  const d = deps();
  let calls = 0;
  const answer = await askAgain(d, signal, async () => {
    calls++;
    if (calls < 3) throw new RetryableError('portal answered HTTP 503');
    return OK;
  });
  t.equal(answer, OK);
  t.equal(calls, 3, 'two failures, then the answer');
  t.equal(d.failureStreak.calls, 0, 'a success ends the streak');
});

t.test('a portal failing every call: quick retries stop at the streak limit, then one call per attempt until one succeeds', async (t) => {
  const d = deps();
  let calls = 0;
  let up = false;
  const call = async () => {
    calls++;
    if (!up) throw new RetryableError('portal answered HTTP 503');
    return OK;
  };
  await t.rejects(askAgain(d, signal, call), RetryableError, 'the first attempt fails');
  t.equal(calls, QUICK_RETRY_STREAK_LIMIT, `asked ${QUICK_RETRY_STREAK_LIMIT} times, not for the whole window`);
  for (let attempt = 0; attempt < 5; attempt++) await t.rejects(askAgain(d, signal, call), RetryableError);
  t.equal(calls, QUICK_RETRY_STREAK_LIMIT + 5, 'the next attempts one call each');
  up = true;
  t.equal(await askAgain(d, signal, call), OK, 'the portal back: the next attempt succeeds');
  up = false;
  calls = 0;
  await t.rejects(askAgain(d, signal, call), RetryableError);
  t.equal(calls, QUICK_RETRY_STREAK_LIMIT, 'after a success, quick retries are back');
});

t.test('a permanent refusal is never asked again and does not count as a failure in transit', async (t) => {
  const d = deps();
  let calls = 0;
  await t.rejects(askAgain(d, signal, async () => {
    calls++;
    throw new PermanentError('portal answered HTTP 400');
  }), PermanentError);
  t.equal(calls, 1);
  t.equal(d.failureStreak.calls, 0);
});
