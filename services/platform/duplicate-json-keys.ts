// A JSON object that names one key twice ({"to": A, "to": B}) is read differently by different
// parsers: JSON.parse keeps the last, others the first or refuse (RFC 8259 §4 leaves it open;
// I-JSON, RFC 7493, forbids it). A gateway that validates one reading while a system behind it
// acts on another is the classic smuggling gap, so such a body is refused, naming the key.
//
// The check on every body is a count, not a second parse: member names written in the bytes
// (found with Buffer.indexOf, which skips long strings such as base64 attachments natively)
// against keys in the parsed value. Only when they differ are the bytes walked to name the
// repeated key.
import { fieldPathJoin } from './field-path.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

export function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Whether the quote at `at` is escaped (an odd run of backslashes before it). */
function escaped(json: Buffer, at: number): boolean {
  let run = 0;
  for (let i = at - 1; i >= 0 && json[i] === BACKSLASH; i--) run++;
  return run % 2 === 1;
}

/** Member names written in a JSON text that parsed: strings followed by a colon. */
function namesWritten(json: Buffer): number {
  let names = 0;
  let open = json.indexOf(QUOTE);
  while (open !== -1) {
    let close = json.indexOf(QUOTE, open + 1);
    while (close !== -1 && escaped(json, close)) close = json.indexOf(QUOTE, close + 1);
    if (close === -1) return names;
    let next = close + 1;
    while (next < json.length && isJsonWhitespace(json[next])) next++;
    if (json[next] === COLON) names++;
    // Outside strings, the next quote always opens one.
    open = json.indexOf(QUOTE, next);
  }
  return names;
}

/** Keys in a parsed value, counted without recursion (a body may nest thousands deep). */
function keysParsed(value: unknown): number {
  let n = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (Array.isArray(v)) {
      for (const item of v) if (item !== null && typeof item === 'object') pending.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const key in v) {
        n++;
        const child = (v as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') pending.push(child);
      }
    }
  }
  return n;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** The first repeated member name, as a dotted path (`payload.subject`, `to.1.member`). */
function firstRepeatedKey(json: Buffer): string | null {
  // A leading byte order mark, which the JSON parser skips too.
  let i = json[0] === 0xef && json[1] === 0xbb && json[2] === 0xbf ? 3 : 0;
  const skip = () => {
    while (i < json.length && isJsonWhitespace(json[i])) i++;
  };
  const readString = (): string => {
    const start = i;
    let close = json.indexOf(QUOTE, i + 1);
    while (close !== -1 && escaped(json, close)) close = json.indexOf(QUOTE, close + 1);
    i = close + 1;
    return JSON.parse(json.toString('utf8', start, i)) as string;
  };
  const value = (path: string): string | null => {
    skip();
    const c = json[i];
    if (c === OPEN_OBJECT) {
      i++;
      const seen = new Set<string>();
      for (;;) {
        skip();
        if (json[i] === CLOSE_OBJECT) return i++, null;
        const key = readString();
        if (seen.has(key)) return fieldPathJoin(path, key);
        seen.add(key);
        skip();
        i++; // the colon
        const found = value(fieldPathJoin(path, key));
        if (found) return found;
        skip();
        if (json[i++] === CLOSE_OBJECT) return null; // else a comma
      }
    }
    if (c === OPEN_ARRAY) {
      i++;
      for (let index = 0; ; index++) {
        skip();
        if (json[i] === CLOSE_ARRAY) return i++, null;
        const found = value(fieldPathJoin(path, index));
        if (found) return found;
        skip();
        if (json[i++] === CLOSE_ARRAY) return null;
      }
    }
    if (c === QUOTE) {
      readString();
      return null;
    }
    // A number, true, false or null: up to the next delimiter.
    while (i < json.length && !isJsonWhitespace(json[i]) && json[i] !== COMMA && json[i] !== CLOSE_ARRAY && json[i] !== CLOSE_OBJECT) i++;
    return null;
  };
  return value('');
}

/**
 * The repeated key of a JSON body that parsed to `value`, or null when every object names each
 * key once. `json` is the body's bytes as received (UTF-8).
 */
export function repeatedJsonKey(json: Buffer, value: unknown): string | null {
  if (namesWritten(json) === keysParsed(value)) return null;
  // The counts differ: name the key. The walk recurses: a repeat nested past the stack's depth
  // is reported without its name.
  // With the parser set to refuse prototype keys (every service), only a repeated key makes the
  // counts differ: a walk that names none still refuses, saying so.
  try {
    return firstRepeatedKey(json) ?? '(a key the check could not name)';
  } catch (err) {
    if (err instanceof RangeError) return '(a key nested too deeply to name)';
    throw err;
  }
}
