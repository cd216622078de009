// HTTP header values are ASCII: text with Vietnamese letters (a correlation id, say) travels
// percent-encoded, as UTF-8. A lone surrogate has no UTF-8 form and would make
// encodeURIComponent throw (a delivery failing on every attempt): it goes as U+FFFD instead.
// The gateway refuses such text (text-guard.ts); this keeps records older than that deliverable.
export function asciiHeaderValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return encodeURIComponent((value as string & { toWellFormed(): string }).toWellFormed());
}
