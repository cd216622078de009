// One byte range of a representation the service holds whole (RFC 9110 §14): what a GET with
// `Range` (and perhaps `If-Range`) is answered with. Only a single `bytes` range is served; a
// list of ranges, another unit or a malformed field is ignored and the whole representation
// sent, as §14.2 allows (a client that resumes a download asks for one range).

export type ByteRangeAnswer = { kind: 'whole' } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * The answer to `range` for a representation of `size` bytes whose strong entity-tag is `etag`.
 * `ifRange` (§13.1.5) keeps the range only when it names that tag exactly (a date, or another tag,
 * asks for the whole representation: there is no Last-Modified to compare a date with).
 */
export function byteRangeOf(range: string | undefined, ifRange: string | undefined, etag: string, size: number): ByteRangeAnswer {
  if (range === undefined) return { kind: 'whole' };
  if (ifRange !== undefined && ifRange.trim() !== etag) return { kind: 'whole' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    // A suffix: the last n bytes (all of them when n is larger); the last 0 bytes are none.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end: Math.min(last, size - 1) };
}
