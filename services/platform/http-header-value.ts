// HTTP header values are ASCII: text with Vietnamese letters (a correlation id, say) travels
// percent-encoded, as UTF-8. A value that holds a "%" is encoded too, so the rule a receiver
// applies is one and unambiguous: a value with a "%" in it is percent-encoded (decode it), any
// other value is the text itself. Plain ASCII ids, the usual case, arrive as they are; without the
// second rule "xô" and the ASCII text "x%C3%B4" arrived as the same bytes.
// A lone surrogate has no UTF-8 form and would make encodeURIComponent throw (a delivery failing
// on every attempt): it goes as U+FFFD instead. The gateway refuses such text (text-guard.ts);
// this keeps records older than that deliverable.
export function asciiHeaderValue(value: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(value)) return value;
  return encodeURIComponent((value as string & { toWellFormed(): string }).toWellFormed());
}
