// Headers every answer of a bus service carries unless its route says otherwise.
//  - Cache-Control: no-store. Answers hold agency data — message statuses, inbox items,
//    documents, citizens' dossiers in the console, audit entries — and are answers to
//    authenticated requests: no browser, client library or proxy on the way should keep a copy
//    (OWASP API Security: sensitive data in caches). A route whose answer may be kept says so
//    itself (the JWKS: public, 60 s; the console's page files: no-cache), which replaces this.
//  - X-Content-Type-Options: nosniff. A JSON answer is never read as a script or a page.
//  - X-Frame-Options: DENY. No answer is framed by another site (clickjacking on the console);
//    the console's CSP frame-ancestors says the same to current browsers, this to older ones.
// Set when the request arrives, so refusals (401, 404, 429, 5xx) carry them too.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const responseHeaders = fp(async function responseHeaders(app: FastifyInstance) {
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY');
    done();
  });
});
