// JSON bodies are UTF-8 (RFC 8259 §8.1, and the bus keeps text UTF-8 and NFC end to end).
// Fastify's own parser decodes whatever arrives as UTF-8 and quietly turns bytes that are not
// into U+FFFD, so a Latin-1 or Windows-1258 body was accepted and its Vietnamese text delivered
// corrupted. This parser refuses such a body instead (400 MALFORMED_JSON), and a body that
// declares another charset than UTF-8 or US-ASCII (415; a body declared US-ASCII with a byte above
// 0x7F is 400 MALFORMED_JSON), then parses like Fastify's (prototype-poisoning rules alike),
// saying what is wrong when it refuses; a key named twice in one object is refused too
// (duplicate-json-keys.ts).
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { problems } from './problem.js';
import { isJsonWhitespace, repeatedJsonKey } from './duplicate-json-keys.js';

/** The charset parameter of a Content-Type, lower-cased, if there is one. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
}

/** No charset declared, or UTF-8. */
export function isUtf8Charset(charset: string | undefined): boolean {
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/**
 * US-ASCII (or its alias `ascii`), which some client libraries declare for JSON (Python's): a
 * subset of UTF-8, so an ASCII body reads the same either way, and JSON's `\uXXXX` escapes carry
 * any other character. Lower-cased already (declaredCharset).
 */
export function isAsciiCharset(charset: string | undefined): boolean {
  return charset === 'us-ascii' || charset === 'ascii';
}

/** Where the first byte above 0x7F is, or -1. */
function firstNonAsciiByte(body: Buffer): number {
  for (let i = 0; i < body.length; i++) if (body[i] > 0x7f) return i;
  return -1;
}

/** `takesXml`: whether the request's operation also takes an XML body (the hint for a body that opens like XML). */
export function useUtf8JsonParser(app: FastifyInstance, takesXml: (req: FastifyRequest) => boolean = () => false): void {
  const parse = app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? 'error', app.initialConfig.onConstructorPoisoning ?? 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const charset = declaredCharset(req.headers['content-type']);
    if (!isUtf8Charset(charset) && !isAsciiCharset(charset)) {
      done(problems.unsupportedMediaType(`JSON bodies are UTF-8 (or US-ASCII, its subset); this one declares charset=${charset}`), undefined);
      return;
    }
    // No body under a JSON Content-Type, to a route that takes none (an inbox ack, a connector
    // restart, a dead-letter replay): what HTTP stacks that set the type on every POST send
    // (OkHttp needs a body to POST and is given an empty JSON one). Nothing to parse, nothing
    // refused. A route that takes a body still refuses an empty one.
    if ((body as Buffer).length === 0 && req.routeOptions.schema?.body === undefined) {
      done(null, undefined);
      return;
    }
    // A body declared ASCII is taken as such, not read as UTF-8 behind its declaration: a byte
    // above 0x7F says the declaration is wrong, and which characters were meant is a guess.
    const nonAscii = isAsciiCharset(charset) ? firstNonAsciiByte(body as Buffer) : -1;
    if (nonAscii >= 0) {
      done(problems.malformedJson(`The body declares charset=${charset}, but byte ${nonAscii} is 0x${(body as Buffer)[nonAscii].toString(16).toUpperCase()}, not ASCII: send non-ASCII text as UTF-8 (charset=utf-8, or no charset) or as \\uXXXX escapes`), undefined);
      return;
    }
    if (!isUtf8(body as Buffer)) {
      done(problems.malformedJson('The body is not valid UTF-8 (JSON is UTF-8: RFC 8259)'), undefined);
      return;
    }
    void parse(req, body as unknown as string, (err, value) => {
      if ((err as { code?: string } | null)?.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        done(explainedJsonError(body as Buffer, takesXml(req)), undefined);
        return;
      }
      const repeated = err ? null : repeatedJsonKey(body as Buffer, value);
      if (repeated) done(problems.malformedJson(`The body names the key "${repeated.slice(0, 200)}" twice in one object; which one counts would depend on the parser, so neither is taken (RFC 8259 §4, RFC 7493)`), undefined);
      else done(err, value);
    });
  });
}

/**
 * Fastify says only "Body is not valid JSON": say where the syntax breaks, or that the JSON is
 * fine but uses a key refused on purpose. Runs on refused bodies only, so the second parse is
 * no cost to the traffic that passes. A body that opens like XML (an edXML package sent as JSON,
 * the slip a QLVB system's HTTP client makes) is told the Content-Type to send, where the
 * operation takes XML (`takesXml`).
 */
function explainedJsonError(body: Buffer, takesXml: boolean) {
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    const xml = opensLikeXml(body) ? (takesXml ? '; it looks like XML: send XML with Content-Type: application/xml' : '; it looks like XML, and this operation takes JSON') : '';
    return problems.malformedJson(`The body is not valid JSON: ${(err as Error).message}${xml}`);
  }
  return problems.malformedJson('The body uses the key "__proto__" or "constructor" with "prototype", refused for safety (prototype poisoning)');
}

/** Whether the first byte after a byte order mark and white space is '<'. */
function opensLikeXml(body: Buffer): boolean {
  let i = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (i < body.length && isJsonWhitespace(body[i])) i++;
  return body[i] === 0x3c;
}
