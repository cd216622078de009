// The signer of a signed edXML package as the message's timeline names it. The timeline's status
// event goes on lgsp.events in clear, into the permanent audit chain and to operators, so it says
// who signed — the certificate's names: person or office, unit, organisation, place — and leaves
// out what a certificate subject may also hold about a person: Vietnamese signing certificates
// commonly carry the holder's citizen id (UID=CCCD:…, UID=CMND:…, or a serialNumber attribute),
// and may carry an e-mail address or telephone number. Those are personal data (Decree
// 13/2023) that operators do not need and the audit chain cannot forget. The receivers get the
// whole subject in the package's signatureVerification and the certificate itself.

/** The subject attributes a timeline keeps (OpenSSL's short names, as node:crypto prints them). */
const NAMING_ATTRIBUTES = new Set(['CN', 'OU', 'O', 'L', 'ST', 'C', 'title', 'DC']);

/**
 * `subject` as xml-dsig.ts gives it ("CN=…, UID=…, O=…") with only the naming attributes, and
 * `(n more attributes left out)` when some were dropped. An attribute that is not named
 * (a bare OID) is left out too: what it holds cannot be told.
 */
export function signerOnTimeline(subject: string): string {
  const parts = subject.split(/, (?=[A-Za-z0-9.]+=)/);
  const kept = parts.filter((part) => NAMING_ATTRIBUTES.has(part.slice(0, part.indexOf('='))));
  const left = parts.length - kept.length;
  const names = kept.join(', ');
  if (left === 0) return names;
  return `${names}${names ? ' ' : ''}(${left} more attribute${left === 1 ? '' : 's'} left out)`;
}
