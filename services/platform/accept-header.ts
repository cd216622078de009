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

/** The weight of the most specific range covering `mediaType` (the type itself, then `application/*`, then `*\/*`); undefined when none covers it. */
function coveringWeight(accept: string, mediaType: string): number | undefined {
  const [type, subtype] = mediaType.toLowerCase().split('/');
  let best: { specificity: number; q: number } | undefined;
  for (const range of mediaRanges(accept)) {
    const specificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' && range.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    // The same range twice: the higher weight (a client that lists it twice wants it).
    if (!best || specificity > best.specificity || (specificity === best.specificity && range.q > best.q)) best = { specificity, q: range.q };
  }
  return best?.q;
}

/**
 * The weight the Accept header gives `mediaType` (`application/xml`): that of its most specific
 * range (the type itself, then `application/*`, then `*\/*`), 0 when no range covers it.
 */
export function acceptWeight(accept: string, mediaType: string): number {
  return coveringWeight(accept, mediaType) ?? 0;
}

/**
 * Whether an answer may come as `mediaType`: there is no Accept header (or none that parses); a
 * range covering the type gives it a weight above 0; or the header only refuses (every range at
 * q=0, "anything but these") and no range covers it. A type given q=0 is never served: q=0 means
 * "not acceptable" (RFC 9110 §12.5.1), and a client that wrote it checks what it gets.
 */
export function acceptAllows(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined) return true;
  const ranges = mediaRanges(accept);
  if (ranges.length === 0) return true;
  const weight = coveringWeight(accept, mediaType);
  return weight !== undefined ? weight > 0 : !ranges.some((r) => r.q > 0);
}

/**
 * Of the media types an answer can be written as (`application/xml`, `text/xml`), the one the
 * Accept header lets through with the highest weight; the first on a tie, and the first when it
 * lets none through (the caller chose the format otherwise, with a `format` query).
 */
export function preferredMediaType(accept: string | undefined, mediaTypes: readonly string[]): string {
  if (accept === undefined) return mediaTypes[0];
  let best = mediaTypes[0];
  let bestWeight = -1;
  for (const mediaType of mediaTypes) {
    if (!acceptAllows(accept, mediaType)) continue;
    const weight = acceptWeight(accept, mediaType);
    if (weight > bestWeight) [best, bestWeight] = [mediaType, weight];
  }
  return best;
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
 * Whether the Accept header lets none of `mediaTypes` (the ones an answer can come in) through
 * (acceptAllows): a 406 then, not an answer in a type the client did not ask for or refused. No
 * header, `*\/*`, and a header that refuses only some of them (`application/xml;q=0`, "anything
 * but XML") leave the others open.
 */
export function acceptsNoneOf(accept: string | undefined, mediaTypes: readonly string[]): boolean {
  return !mediaTypes.some((m) => acceptAllows(accept, m));
}
