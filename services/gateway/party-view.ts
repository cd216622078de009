// What the parties of a message (its sender's and its receiver's systems) read of its failures.
// A delivery failure's reason is written by the runner for operators and names where the bus
// delivers: "delivery to http://10.20.0.5:8080 failed: ECONNREFUSED" (the receiving system's
// endpoint from the registry), "portal https://… unreachable" (a connector's upstream). The
// registry keeps those addresses from agencies — GET /v1/services names no endpoint, only the
// console shows them, to operators — and a sender has no use for another agency's network
// address, so the parties read each address as ADDRESS_WITHHELD; operators and observers read
// the reason as it was written. The rest of the reason (the error code, the HTTP status, the
// attempts) is what a party needs to know and stays.
import type { MessageView } from '../platform/gateway-module.js';

export const ADDRESS_WITHHELD = '[address withheld]';

/** A URL (scheme, authority, path) in free text, up to white space or a delimiter. */
const ADDRESS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>,;()]+/gi;

/**
 * A W3C identifier (http://www.w3.org/…): the name of an algorithm or a namespace, not a place the
 * bus delivers to. The reason a package's XML-DSig signature cannot be checked names one
 * ("canonicalization algorithm 'http://www.w3.org/2006/12/xml-c14n11' is not supported"), and the
 * sender read "'[address withheld]' is not supported", not told which algorithm to change.
 */
const W3C_IDENTIFIER = /^https?:\/\/www\.w3\.org\//i;

/** `text` with every URL in it replaced by ADDRESS_WITHHELD, W3C identifiers excepted. */
export function withoutAddresses(text: string): string {
  return text.replace(ADDRESS, (url) => (W3C_IDENTIFIER.test(url) ? url : ADDRESS_WITHHELD));
}

function scrubbed(value: unknown): unknown {
  if (typeof value === 'string') return withoutAddresses(value);
  if (Array.isArray(value)) return value.map(scrubbed);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubbed(v)]));
  return value;
}

/** The view a sender or receiver gets: every event's detail without addresses. */
export function partyView(view: MessageView): MessageView {
  return { ...view, events: view.events.map((e) => (e.detail ? { ...e, detail: scrubbed(e.detail) as Record<string, unknown> } : e)) };
}
