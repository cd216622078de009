// How a problem's `errors[].field` names a place in a request: members joined by dots, array
// elements by their index in brackets — `to[1].member`, `payload.attachments[0].name` — as
// JavaScript and most JSON path tools write it. Schema errors, the text and duplicate-key
// checks, the fan-out and the document rules used to differ (`to.1.member` next to
// `to[1].member`), so a client mapping errors back onto its form had to know which check spoke.

/** `path` with `segment` appended: a number (an array index) in brackets, a name after a dot. */
export function fieldPathJoin(path: string, segment: string | number): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  return path ? `${path}.${segment}` : segment;
}

/** Segments from the root; an empty path reads `(body)`, the request body itself. */
export function fieldPath(segments: ReadonlyArray<string | number>, prefix = ''): string {
  return segments.reduce<string>(fieldPathJoin, prefix) || '(body)';
}

/**
 * A JSON Pointer's segments (RFC 6901, as Ajv's `instancePath`), with the array indices as
 * numbers: a pointer alone does not say whether `/items/1` is an array element or a member
 * named "1", so `value` (the document the pointer points into) is walked to tell them apart;
 * without it, all-digit segments are read as indices.
 */
export function pointerSegments(pointer: string, value?: unknown): Array<string | number> {
  const segments: Array<string | number> = [];
  let at: unknown = value;
  for (const raw of pointer.split('/').slice(1)) {
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const isIndex = value === undefined ? /^(0|[1-9]\d*)$/.test(name) : Array.isArray(at) && /^(0|[1-9]\d*)$/.test(name);
    segments.push(isIndex ? Number(name) : name);
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[name] : undefined;
  }
  return segments;
}
