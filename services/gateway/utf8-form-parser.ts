// Form bodies (application/x-www-form-urlencoded: the token endpoint, RFC 6749 §4.4.2) read as
// strictly as JSON bodies are (utf8-json-parser.ts). @fastify/formbody decoded whatever arrived:
// a broken escape (`%ZZ`) was kept as text, bytes that are not UTF-8 (`%FF`, or raw Latin-1)
// became U+FFFD, and a body declaring charset=latin1 was read as UTF-8 all the same, so a client
// secret or assertion garbled on the way was refused for what it had become ("JWS Protected Header
// is invalid") instead of for how it was sent. Such a body is now 400 (415 for another charset),
// saying where. A parameter sent twice arrives as an array, as before (the route refuses it, RFC
// 6749 §3.2); `+` is a space (HTML forms).
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { problems } from '../platform/problem.js';
import { declaredCharset, isAsciiCharset, isUtf8Charset } from '../platform/utf8-json-parser.js';

const FORM = 'application/x-www-form-urlencoded';

/** The parameters of a form body, or a problem saying what is wrong with it. */
export function parseForm(body: Buffer, contentType: string | undefined): Record<string, string | string[]> {
  const charset = declaredCharset(contentType);
  if (!isUtf8Charset(charset) && !isAsciiCharset(charset)) {
    throw problems.unsupportedMediaType(`Form bodies are UTF-8 (percent-encoded); this one declares charset=${charset}`);
  }
  if (!isUtf8(body)) throw problems.badRequest('The form body is not valid UTF-8: percent-encode its parameters as UTF-8 (RFC 3986)');
  const text = body.toString('utf8');
  const broken = /%(?![0-9A-Fa-f]{2})/.exec(text);
  if (broken) throw problems.badRequest(`The form body has a malformed percent-escape at character ${broken.index} ("${text.slice(broken.index, broken.index + 3)}"): write a literal % as %25`);
  const params: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const seen = params[name];
    params[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return params;
}

function decodeComponent(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replaceAll('+', ' '));
  } catch {
    throw problems.badRequest(`The form parameter "${encoded.slice(0, 40)}" does not decode to UTF-8: percent-encode its bytes as UTF-8 (RFC 3986)`);
  }
}

/** Parses form bodies in `app`'s scope with parseForm. */
export function useUtf8FormParser(app: FastifyInstance): void {
  app.addContentTypeParser(FORM, { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, parseForm(body as Buffer, req.headers['content-type']));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
