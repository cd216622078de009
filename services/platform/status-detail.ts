// The check of a connector's ctx.emitStatus() detail, shared by the runner and the SDK test
// harness. A status event goes on the events topic like an outcome event, so it is held to the
// same 64 KiB as a delivered event's detail; a detail over the broker's message size failed the
// runner's produce on every retry, and one JSON cannot write (a BigInt, a cycle) failed with the
// serializer's words. Both are bugs in the connector that a retry repeats, so they are permanent
// errors naming the limit or the cause.
import { PermanentError } from './delivery.js';

/** Characters a status detail may take as JSON (the same bound as a delivered event's detail). */
export const MAX_STATUS_DETAIL_CHARS = 64 * 1024;

/** Throws a PermanentError saying why when `detail` cannot go on a status event. */
export function checkStatusDetail(detail: unknown): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(detail);
  } catch (err) {
    throw new PermanentError(`ctx.emitStatus() detail is not JSON: ${(err as Error)?.message ?? String(err)}`);
  }
  if (json === undefined || detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    throw new PermanentError('ctx.emitStatus() detail must be an object of codes and numbers');
  }
  if (json.length > MAX_STATUS_DETAIL_CHARS) {
    throw new PermanentError(`ctx.emitStatus() detail is ${json.length} characters as JSON, over the ${MAX_STATUS_DETAIL_CHARS} a status event may hold: emit codes and numbers, not documents`);
  }
}
