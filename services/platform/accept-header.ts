// The Accept header (RFC 9110 §12.5.1) read with its weights, for an answer that comes in more
// than one media type. A regular expression looking for a type's name took
// `application/xml;q=0` ("anything but XML") for a request for XML, and
// `application/json, application/xml;q=0.5` for one that prefers XML.

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function mediaRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';');
    const [type, subtype] = range.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name.toLowerCase() !== 'q') continue;
      // A weight that is no number (q=abc) counts as not given rather than as a refusal.
      const weight = Number(value);
      if (value !== '' && Number.isFinite(weight)) q = Math.min(1, Math.max(0, weight));
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/**
 * The weight the Accept header gives `mediaType` (`application/xml`): that of its most specific
 * range (the type itself, then `application/*`, then `*\/*`), 0 when no range covers it.
 */
export function acceptWeight(accept: string, mediaType: string): number {
  const [type, subtype] = mediaType.toLowerCase().split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const range of mediaRanges(accept)) {
    const specificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' && range.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    // The same range twice: the higher weight (a client that lists it twice wants it).
    if (!best || specificity > best.specificity || (specificity === best.specificity && range.q > best.q)) best = { specificity, q: range.q };
  }
  return best?.q ?? 0;
}

/**
 * Which of two groups of media types the Accept header prefers: `first` or `second` when it
 * weighs the best of one group above the best of the other, undefined when there is no header
 * or it weighs them alike (`*\/*`, both listed with the same weight, neither listed) — the
 * server's own default decides then.
 */
export function acceptPrefers<A extends string, B extends string>(accept: string | undefined, first: { name: A; mediaTypes: readonly string[] }, second: { name: B; mediaTypes: readonly string[] }): A | B | undefined {
  if (accept === undefined || accept.trim() === '') return undefined;
  const weight = (mediaTypes: readonly string[]) => Math.max(...mediaTypes.map((m) => acceptWeight(accept, m)));
  const [a, b] = [weight(first.mediaTypes), weight(second.mediaTypes)];
  return a > b ? first.name : b > a ? second.name : undefined;
}

/**
 * Whether the Accept header asks only for types other than `mediaTypes` (the ones an answer can
 * come in): it names some range with a weight above 0, and gives each of them 0. A 406 then, not
 * an answer in a type the client did not ask for. No header, `*\/*`, and a header that only
 * refuses (`application/xml;q=0`, "anything but XML") leave the answer to the server.
 */
export function acceptsNoneOf(accept: string | undefined, mediaTypes: readonly string[]): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  if (!mediaRanges(accept).some((r) => r.q > 0)) return false;
  return mediaTypes.every((m) => acceptWeight(accept, m) === 0);
}
