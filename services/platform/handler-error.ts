// What a connector's handle() threw, as an Error the runner and the SDK's test harness read the
// same way (reason, retry flags).
import { sliceWhole } from './whole-slice.js';

/**
 * What handle() threw, as an Error: a connector may throw anything (`throw undefined`, a string,
 * a plain object), and a value without a message must still give the failure a reason: reading
 * `.message` of undefined would fail the record's bookkeeping and leave it unfinished, holding
 * back its partition's offsets for good. A plain object's retry flags (`retryable`,
 * `retryAfterMs`, `waitsForEarlier`) are kept, as for an Error of another copy of the SDK.
 */
export function handlerError(thrown: unknown): Error & { retryAfterMs?: number } {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  if (thrown === null || typeof thrown !== 'object') return new Error(`handle() threw ${String(thrown)} instead of an Error`);
  let shown: string;
  try {
    shown = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    shown = '(not serialisable)';
  }
  const err = new Error(`handle() threw an object instead of an Error: ${shown.length > 200 ? `${sliceWhole(shown, 200)}…` : shown}`);
  const flags = thrown as { retryable?: unknown; retryAfterMs?: unknown; waitsForEarlier?: unknown };
  return Object.assign(err, {
    ...(flags.retryable === false ? { retryable: false } : {}),
    ...(typeof flags.retryAfterMs === 'number' ? { retryAfterMs: flags.retryAfterMs } : {}),
    ...(flags.waitsForEarlier === true ? { waitsForEarlier: true } : {}),
  });
}
