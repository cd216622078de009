// Which of the errors a connector's handle() throws may put their text on the bus. A failure's
// reason goes on the delivery_failed / dead_lettered events, so into the audit chain (kept for
// good, never edited), and into the dead letter's header and the console. A reason worded on
// purpose (a PermanentError naming a code or a field, the SDK's own refusals) belongs there. The
// text of an error nobody worded does not: the JavaScript engine's own errors quote the data they
// choked on (JSON.parse quotes a snippet of the text: a citizen's name or ID; BigInt('…') quotes
// the value; node:assert prints actual and expected; Node's argument checks print "Received …").
// Such an error's reason names only its class and where it was thrown; the runner's log names the
// stack frames it was thrown from, under the message's id, but not its text either: logs hold no
// personal data (the connector's author reproduces the text with the SDK's harness, where the
// original error is the reason's cause). Retry classification is the original error's: the
// replacement carries its retry flags.
import { AssertionError } from 'node:assert';

/**
 * A TypeError whose message was worded on purpose: it names the rule broken, never the value
 * refused (e.g. ctx.state's key and value checks). `instanceof TypeError` holds, so connector code
 * catching TypeErrors still does, and its name stays "TypeError"; but it is not the engine's
 * constructor, so its message is kept on the bus.
 */
export class UsageError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'TypeError';
  }
}

/** The engine's own error classes: thrown with the engine's words, which may quote a value. */
const ENGINE_ERRORS: ReadonlySet<unknown> = new Set([SyntaxError, TypeError, RangeError, ReferenceError, URIError, EvalError]);

/** Node's argument checks, whose messages end "Received <the value>" (their classes are Node's own subclasses). */
const NODE_VALUE_QUOTING_CODES: ReadonlySet<string> = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE']);

/**
 * The class to name when `err`'s message was worded by no one (so may quote data), else null:
 * - an error whose constructor is exactly one of the engine's (a subclass is somebody's own);
 * - node:assert's AssertionError with the message it made itself (not one the caller gave);
 * - Node's argument-check errors (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE).
 * fetch()'s `TypeError: fetch failed` (its cause the network error: ECONNREFUSED…) is kept: fixed
 * words, which the destination's circuit reads as a connection failure; its other TypeErrors
 * ("Failed to parse URL from <the URL>") quote what they were given and are not. Node's system
 * errors (ECONNREFUSED, ETIMEDOUT: plain Errors with a code) are Node's words about the network
 * and are kept.
 */
export function unplannedErrorClass(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  if (err instanceof AssertionError) return err.generatedMessage ? 'AssertionError' : null;
  if (typeof code === 'string' && NODE_VALUE_QUOTING_CODES.has(code)) return `${err.name} [${code}]`;
  const ctor = Object.getPrototypeOf(err)?.constructor as unknown;
  if (!ENGINE_ERRORS.has(ctor)) return null;
  if (ctor === TypeError && err.message === 'fetch failed' && err.cause !== undefined) return null;
  return (ctor as { name: string }).name;
}

/** The fixed reason an unplanned error gets on the bus: its class and where, never its text. */
export function withheldReason(errorClass: string, where: string, messageId: string): string {
  return `connector error: ${errorClass} thrown by ${where} (its message is withheld from the bus because it may quote message data; the runner's log names where it was thrown, under messageId ${messageId})`;
}

/** Where `err` was thrown: its stack's frames, without the message line(s) before them (which may quote data). */
export function thrownAt(err: Error): string | undefined {
  const frames = err.stack?.split('\n').filter((line) => /^\s+at /.test(line)).map((line) => line.trim());
  return frames && frames.length > 0 ? frames.join('\n') : undefined;
}

/**
 * `err` as it may go on the bus: itself when its message was worded on purpose, else an Error with
 * the withheld reason, the original as its cause, and the original's retry flags (retryable,
 * retryAfterMs, waitsForEarlier), so it is retried or dead-lettered exactly as before. `withheld`
 * names the class when the message was withheld.
 */
export function forTheBus<E extends Error>(err: E, where: string, messageId: string): { error: E; withheld: string | null } {
  const errorClass = unplannedErrorClass(err);
  if (errorClass === null) return { error: err, withheld: null };
  const flags = err as { retryable?: unknown; retryAfterMs?: unknown; waitsForEarlier?: unknown };
  const replacement = Object.assign(new Error(withheldReason(errorClass, where, messageId), { cause: err }), {
    ...(flags.retryable !== undefined ? { retryable: flags.retryable } : {}),
    ...(flags.retryAfterMs !== undefined ? { retryAfterMs: flags.retryAfterMs } : {}),
    ...(flags.waitsForEarlier !== undefined ? { waitsForEarlier: flags.waitsForEarlier } : {}),
  });
  return { error: replacement as unknown as E, withheld: errorClass };
}
