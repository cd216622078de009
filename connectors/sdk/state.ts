// ctx.state: a connector's own keyed state, for what a connector must remember across messages,
// restarts and runner replicas (e.g. the one-stop-shop's "newest update of a dossier wins"
// guard). Keys are namespaced per connector by the runtime; values are JSON. In the runner the
// state lives in the bus's shared PostgreSQL, so every replica sees the same values and
// compareAndSet() is atomic across them; the test harness keeps it in memory. Connectors never
// reach the database themselves.
import { UsageError } from '../../services/platform/unplanned-error.js';

export interface ConnectorState {
  /** The value stored under `key`, or undefined when there is none. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores `value` under `key`, replacing what was there. */
  set(key: string, value: unknown): Promise<void>;
  /**
   * Stores `next` only if the current value equals `expected` (as JSON values: key order does
   * not matter; `undefined` = no value yet). True when it stored. Read with get(), decide, then
   * compareAndSet(): a false means another handler (maybe on another runner) changed the value
   * in between, so read again and decide again.
   */
  compareAndSet(key: string, expected: unknown, next: unknown): Promise<boolean>;
  /** Removes the value under `key` (no error when there is none). */
  delete(key: string): Promise<void>;
}

export const MAX_STATE_KEY_LENGTH = 512;
export const MAX_STATE_VALUE_BYTES = 64 * 1024;

/** A \u0000 escape in JSON text: preceded by an even number of backslashes. */
const NUL_IN_JSON = /(?<!\\)(?:\\\\)*\\u0000/;

/**
 * Throws a TypeError for a key the state cannot hold: a UsageError, whose message (the rule, never
 * the key) is kept as the failure's reason on the bus, unlike an engine TypeError's.
 */
export function checkStateKey(key: unknown): asserts key is string {
  // NUL: PostgreSQL's text cannot hold it (the runner's store failed with a database error).
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_STATE_KEY_LENGTH || key.includes('\u0000')) {
    throw new UsageError(`ctx.state: a key is a non-empty string of at most ${MAX_STATE_KEY_LENGTH} characters, without NUL (U+0000)`);
  }
}

/** The value as stored (JSON text); throws a TypeError (UsageError, as above) for one that is not JSON or too large. */
export function stateValueJson(value: unknown): string {
  const json = value === undefined ? undefined : JSON.stringify(value);
  if (json === undefined) throw new UsageError('ctx.state: a value must be JSON (not undefined or a function)');
  if (Buffer.byteLength(json) > MAX_STATE_VALUE_BYTES) throw new UsageError(`ctx.state: a value may hold at most ${MAX_STATE_VALUE_BYTES} bytes of JSON`);
  // JSON writes NUL as \u0000, which PostgreSQL's jsonb refuses (an escaped backslash before "u0000" is text, not NUL).
  if (json.includes('u0000') && NUL_IN_JSON.test(json)) throw new UsageError('ctx.state: a value may hold no NUL (U+0000) in its strings or keys');
  return json;
}

/** JSON with object keys sorted: equal JSON values give equal strings. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/**
 * In-memory ConnectorState with the runner's semantics (values copied through JSON, so a
 * caller mutating what it got or stored changes nothing), for the test harness.
 */
export function memoryConnectorState(): ConnectorState & { entries(): Map<string, unknown> } {
  const values = new Map<string, string>();
  return {
    async get<T>(key: string) {
      checkStateKey(key);
      const json = values.get(key);
      return json === undefined ? undefined : (JSON.parse(json) as T);
    },
    async set(key, value) {
      checkStateKey(key);
      values.set(key, stateValueJson(value));
    },
    async compareAndSet(key, expected, next) {
      checkStateKey(key);
      const json = stateValueJson(next);
      const current = values.get(key);
      const matches = expected === undefined ? current === undefined : current !== undefined && canonical(JSON.parse(current)) === canonical(JSON.parse(stateValueJson(expected)));
      if (!matches) return false;
      values.set(key, json);
      return true;
    },
    async delete(key) {
      checkStateKey(key);
      values.delete(key);
    },
    entries: () => new Map([...values].map(([k, v]) => [k, JSON.parse(v)])),
  };
}
