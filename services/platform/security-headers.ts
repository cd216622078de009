// The headers every answer of a bus service carries unless its route says otherwise (why each:
// problem-handler.ts). One list for the three places that write answers: the Fastify hook every
// service registers, the HTTP parser's refusals (client-errors.ts) and the early refusal of an
// Expect: 100-continue (expect-continue.ts), which both run before any hook.

/** An answer's policy: it runs, loads and frames nothing. Pages replace it with their own. */
export const ANSWER_CSP = "default-src 'none'; frame-ancestors 'none'";

export const ANSWER_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': ANSWER_CSP,
  'referrer-policy': 'no-referrer',
};

/** The same as raw header lines, for answers written straight to the socket. */
export const SECURITY_HEADER_LINES = 'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n'
  + `Content-Security-Policy: ${ANSWER_CSP}\r\nReferrer-Policy: no-referrer\r\n`;

/**
 * The gateway's API documentation (Swagger UI at /docs): a public page on the API's own origin,
 * so it gets a page policy of its own instead of none. Its scripts and styles are its own files
 * (no inline script: its initializer is a file too); "Try it out" calls the API at the issuer
 * named in the document's servers, which may be another origin than the one the page came from.
 * Swagger UI sets inline styles as it draws, hence 'unsafe-inline' for styles only.
 */
export function docsPageCsp(issuer: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "script-src-attr 'none'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ${new URL(issuer).origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}
