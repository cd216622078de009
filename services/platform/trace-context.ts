// The W3C Trace Context `traceparent` a client sends is carried onto the bus so that tracing
// tools can follow a message across services. Record headers travel in clear (only the payload is
// sealed), so only a well-formed traceparent is carried: anything else a client puts in that
// header (free text, a name, an id number) would otherwise sit in Kafka's log segments, retry
// and dead-letter copies in clear, outside the sealed payload. The W3C rules (Trace Context
// level 1, §3.2) say an invalid value is to be ignored, so dropping it changes nothing for a
// well-behaved client.

/** version-traceId-parentId-flags, lower-case hex; a later version may append "-…" fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ALL_ZERO = /^0+$/;

/**
 * The traceparent to carry onto the bus, or undefined when the header is absent or not a valid
 * W3C traceparent (version ff, an all-zero trace or parent id, version 00 with extra fields).
 * Fields a later version appends are dropped: what is carried is the 55 characters every
 * version shares, nothing the client wrote beyond them.
 */
export function forwardableTraceparent(header: string | string[] | undefined): string | undefined {
  // Two traceparent headers arrive joined by Node (or as an array): ambiguous, so neither.
  if (typeof header !== 'string' || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return undefined;
  return `${version}-${traceId}-${parentId}-${flags}`;
}

/** The record headers carrying `header` onto the bus: `{ traceparent }`, or none. */
export function traceHeader(header: string | string[] | undefined): { traceparent?: string } {
  const traceparent = forwardableTraceparent(header);
  return traceparent ? { traceparent } : {};
}
