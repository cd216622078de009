// Parsing XML from outside the bus without trusting it. fast-xml-parser does the parsing; this
// file fixes the limits around it, because the dangerous parts of XML are the ones a document
// exchange never needs:
//  - no DTD at all: a DOCTYPE (where external entities, XXE, and entity-expansion bombs live)
//    is refused before the parser runs, and the parser's own entity processing is off;
//  - the five predefined entities and character references are decoded here, strictly: any
//    other `&name;` cannot be defined without a DTD, so it is malformed;
//  - size, element count, attribute count, text length and nesting depth are bounded: the first
//    four before parsing (cheap scans), depth while parsing (the parser stops at maxNestedTags);
//  - elements that may hold megabytes (base64 attachments) are kept raw instead of parsed: the
//    parser builds text character by character, which costs seconds on 20 MB, raw costs ~0.2 s;
//  - UTF-8 only (the bus is UTF-8 and NFC end to end).
import { isUtf8 } from 'node:buffer';
import { notUtf8Detail } from './utf8-fault.js';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface XmlLimits {
  maxBytes: number;
  maxDepth: number;
  maxElements: number;
  /** Longest text between two tags, except inside raw elements. */
  maxTextBytes?: number;
  /** Attributes (namespace declarations included) in the whole document; maxElements when absent. */
  maxAttributes?: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 30 * 1024 * 1024, maxDepth: 24, maxElements: 20_000, maxTextBytes: 1024 * 1024, maxAttributes: 20_000 };

/**
 * Attributes one element may carry. edXML elements carry a few (namespace declarations, an
 * xsi:type, an XML-DSig Id or URI). The validator and the parser spend about 10 µs per
 * attribute on the event loop: a 10 MB package of attribute lists held a gateway for 7 s.
 */
export const MAX_ATTRIBUTES_PER_ELEMENT = 256;

/** An element kept as raw text (not parsed), by namespace and local name. */
export interface RawElement {
  namespace: string;
  local: string;
}

export type XmlRefusalCode = 'XML_TOO_LARGE' | 'XML_FORBIDDEN_CONSTRUCT' | 'XML_MALFORMED' | 'XML_TOO_DEEP' | 'XML_TOO_MANY_ELEMENTS' | 'XML_TOO_MANY_ATTRIBUTES' | 'XML_TEXT_TOO_LARGE' | 'XML_UNSUPPORTED_ENCODING';

/** Why a piece of XML was refused; the gateway turns it into problem+json. */
export class XmlRefusal extends Error {
  constructor(
    readonly code: XmlRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'XmlRefusal';
  }
}

/**
 * A parsed element: attributes under '@', text under '#text', CDATA under '#cdata', and every
 * child element (by its qualified name) as an array, so repeated and single elements read alike.
 */
export interface XmlElement {
  '@'?: Record<string, string>;
  '#text'?: string;
  '#cdata'?: { '#text'?: string }[];
  [child: string]: unknown;
}

const parserFor = (maxDepth: number, stopNodes: string[]) =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    attributesGroupName: '@',
    processEntities: false,
    htmlEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    alwaysCreateTextNode: true,
    cdataPropName: '#cdata',
    ignoreDeclaration: true,
    ignorePiTags: true,
    isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
    // Elements kept as raw text (e.g. an XML-DSig Signature, carried opaquely).
    stopNodes,
    maxNestedTags: maxDepth,
  });

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The element names in fast-xml-parser's list of unclosed tags, or null if it is not one. */
function unclosedNames(list: string): string[] | null {
  try {
    const names: unknown = JSON.parse(list);
    return Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string') ? names : null;
  } catch {
    return null;
  }
}

/** Decodes predefined entities and character references; refuses anything else. */
export function decodeXmlText(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;\s&]{0,12});?/g, (match, name: string) => {
    if (!match.endsWith(';')) throw new XmlRefusal('XML_MALFORMED', `unterminated entity reference "${match.slice(0, 14)}"`);
    // Own members only: PREDEFINED["constructor"] is Object's, and "&constructor;" is no XML entity.
    if (Object.hasOwn(PREDEFINED, name)) return PREDEFINED[name];
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (num) {
      const code = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2], 10);
      const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!allowed) throw new XmlRefusal('XML_MALFORMED', `character reference ${match} is not an XML character`);
      return String.fromCodePoint(code);
    }
    throw new XmlRefusal('XML_FORBIDDEN_CONSTRUCT', `entity reference ${match} is not allowed (only the five predefined XML entities and character references are)`);
  });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The qualified names raw elements have in this document: the parser matches stop nodes by
 * qualified name, so the prefixes bound to each namespace are read from its declarations.
 */
function qualifiedNames(text: string, raw: RawElement[]): string[] {
  const names = new Set<string>();
  for (const { namespace, local } of raw) {
    const declaration = new RegExp(`xmlns(?::([A-Za-z_][\\w.-]*))?\\s*=\\s*["']${escapeRegExp(namespace)}["']`, 'g');
    for (const m of text.matchAll(declaration)) names.add(m[1] ? `${m[1]}:${local}` : local);
  }
  return [...names];
}

/**
 * `text` with the insides of comments and CDATA sections blanked (same length, so offsets hold).
 * One pass with indexOf: a regular expression with a lazy `[\s\S]*?-->` scans to the end from
 * every unterminated `<!--`, quadratic on a hostile 30 MB body. An unterminated one is left as
 * it is, for the parser to refuse.
 */
export function blankCommentsAndCdata(text: string): string {
  let out = '';
  let from = 0;
  // Each opener's next place, looked for again only once passed: asking for both at every turn
  // rescanned the whole rest for the one absent (a body of many comments and no CDATA).
  let comment = text.indexOf('<!--');
  let cdata = text.indexOf('<![CDATA[');
  for (;;) {
    if (comment !== -1 && comment < from) comment = text.indexOf('<!--', from);
    if (cdata !== -1 && cdata < from) cdata = text.indexOf('<![CDATA[', from);
    const start = comment === -1 ? cdata : cdata === -1 ? comment : Math.min(comment, cdata);
    if (start === -1) break;
    const [open, close] = start === comment ? ['<!--', '-->'] : ['<![CDATA[', ']]>'];
    const end = text.indexOf(close, start + open.length);
    if (end === -1) break;
    out += text.slice(from, start + open.length) + ' '.repeat(end - start - open.length) + close;
    from = end + close.length;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * Whether the declaration names ASCII and every character is ASCII: such a package reads the same
 * as UTF-8, whose first 128 characters ASCII is. Python's XML writers declare ASCII by default
 * (ElementTree's and lxml's tostring with a declaration: encoding='us-ascii' / 'ASCII') and write
 * every other character as a character reference (S&#7903; for Sở), so a package from a Python
 * QLVB was refused for a word in its declaration while its bytes were UTF-8 already.
 */
function asciiDeclaredAndWritten(encoding: string, text: string): boolean {
  return /^(?:us-)?ascii$/i.test(encoding) && !/[^\p{ASCII}]/u.test(text);
}

/** Checks that need no parsing: size, encoding, DTDs, bounds on elements and text runs. */
export function precheckXml(input: Buffer | string, limits: XmlLimits, rawNames: (text: string) => string[] = () => []): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > limits.maxBytes) throw new XmlRefusal('XML_TOO_LARGE', `the XML document is ${size} bytes; the limit is ${limits.maxBytes}`);
  // Checked on the bytes: a U+FFFD in the decoded text was taken for a byte that was not UTF-8,
  // and a package carrying that character (valid UTF-8: EF BF BD), as text converted lossily
  // somewhere before often does, was refused as not UTF-8. A NUL among the first two bytes is
  // UTF-16 without its byte order mark (NUL is valid UTF-8, never valid XML).
  if (typeof input !== 'string' && (!isUtf8(input) || input[0] === 0 || input[1] === 0)) throw new XmlRefusal('XML_UNSUPPORTED_ENCODING', notUtf8Detail(input));
  let text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const declaration = /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (declaration && !/^utf-?8$/i.test(declaration[1]) && !asciiDeclaredAndWritten(declaration[1], text)) {
    // The bytes are UTF-8 by now: only the declaration is wrong (.NET's XmlWriter over a
    // StringWriter declares utf-16 whatever bytes the string is later sent as).
    throw new XmlRefusal('XML_UNSUPPORTED_ENCODING', `the XML declaration names encoding "${declaration[1].slice(0, 40)}", but edXML packages are UTF-8: declare encoding="UTF-8" (or leave the encoding out)${/[^\p{ASCII}]/u.test(text) ? '; this package\'s bytes are UTF-8 already, only its declaration says otherwise' : ''}`);
  }
  // The constructs below are looked for in the markup only: inside a comment or a CDATA section
  // `<?xml …?>` or `<!DOCTYPE html>` is text (a Subject quoting a configuration file), and such
  // legal packages were refused as processing instructions or DTDs.
  const markup = blankCommentsAndCdata(text);
  if (/<!DOCTYPE/i.test(markup) || /<!ENTITY/i.test(markup)) {
    throw new XmlRefusal('XML_FORBIDDEN_CONSTRUCT', 'DOCTYPE and ENTITY declarations are not allowed (no DTDs, external entities or entity expansion)');
  }
  // Processing instructions mean nothing to a document exchange, and a package delivered as its
  // original bytes (signed ones are) would carry them on to the receiver's parser. The XML
  // declaration may open the document; any other `<?` is refused.
  const opening = /^\s*<\?xml[\s?]/.exec(markup);
  const afterDeclaration = opening ? markup.indexOf('?>', opening[0].length) + 2 : 0;
  const instruction = markup.indexOf('<?', afterDeclaration);
  if (instruction !== -1) {
    const target = /^<\?([^\s?>]{0,40})/.exec(text.slice(instruction))?.[1] ?? '';
    throw new XmlRefusal('XML_FORBIDDEN_CONSTRUCT', `processing instructions are not allowed (<?${target} at offset ${instruction}); only the XML declaration, at the start`);
  }
  if (text.trim() === '') throw new XmlRefusal('XML_MALFORMED', 'the XML document is empty');
  // XML 1.0 (§2.2) has no place for a C0 control other than tab, LF and CR, nor for U+FFFE/U+FFFF,
  // raw or referenced: a document holding one is not well-formed. The parser took it, and the
  // package failed later as 'not representable as edXML', which is not what the vendor must fix.
  const control = NOT_XML_CHARACTER.exec(text);
  if (control) {
    const before = text.slice(0, control.index);
    const line = before.split('\n').length;
    const column = control.index - before.lastIndexOf('\n');
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new XmlRefusal('XML_MALFORMED', `malformed XML: the character U+${code} at line ${line}, column ${column} is not allowed in XML (of the control characters only tab, line feed and carriage return are)`);
  }
  const maxText = limits.maxTextBytes ?? Infinity;
  const raw = new Set(rawNames(text));
  const maxAttributes = limits.maxAttributes ?? limits.maxElements;
  let tags = 0;
  let previous = -1;
  let attributes = 0;
  // Where the last start tag scanned ends: a `<` before it is inside one of its quoted values
  // (malformed, refused by the validator), not a tag to scan again.
  let scannedTo = -1;
  for (let i = text.indexOf('<'); i !== -1; previous = i, i = text.indexOf('<', i + 1)) {
    if (++tags > limits.maxElements * 2) throw new XmlRefusal('XML_TOO_MANY_ELEMENTS', `the XML document has more than ${limits.maxElements} elements`);
    if (i > scannedTo && isStartTag(markup, i)) {
      const tag = scanStartTag(markup, i);
      scannedTo = tag.end === -1 ? text.length : tag.end;
      if (tag.attributes > MAX_ATTRIBUTES_PER_ELEMENT) {
        throw new XmlRefusal('XML_TOO_MANY_ATTRIBUTES', `the element ${elementName(text, i)} has more than ${MAX_ATTRIBUTES_PER_ELEMENT} attributes`);
      }
      attributes += tag.attributes;
      if (attributes > maxAttributes) throw new XmlRefusal('XML_TOO_MANY_ATTRIBUTES', `the XML document has more than ${maxAttributes} attributes`);
    }
    if (previous !== -1 && i - previous > maxText) {
      const opened = /^<([^\s/>!?]+)/.exec(text.slice(previous, previous + 200))?.[1];
      if (!opened || !raw.has(opened)) throw new XmlRefusal('XML_TEXT_TOO_LARGE', `a text value ${opened ? `in ${opened} ` : ''}is longer than ${maxText} characters`);
    }
  }
  return text;
}

/** Characters XML 1.0 does not allow anywhere in a document (§2.2). */
// eslint-disable-next-line no-control-regex
const NOT_XML_CHARACTER = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

/** Whether the `<` at `at` opens a start tag (not an end tag, a comment, CDATA or a declaration). */
function isStartTag(markup: string, at: number): boolean {
  const next = markup.charCodeAt(at + 1);
  return markup.charCodeAt(at) === 0x3c && next !== 0x2f && next !== 0x21 && next !== 0x3f;
}

/**
 * The attributes of the start tag opening at `at`, counted as `=` outside quoted values, and
 * where the tag ends (its `>`, or -1 when it never closes). One pass over the tag's characters.
 */
function scanStartTag(markup: string, at: number): { attributes: number; end: number } {
  let attributes = 0;
  let quote = 0;
  for (let j = at + 1; j < markup.length; j++) {
    const c = markup.charCodeAt(j);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3d) attributes++;
    else if (c === 0x3e) return { attributes, end: j };
  }
  return { attributes, end: -1 };
}

function elementName(text: string, at: number): string {
  return /^<([^\s/>]{1,100})/.exec(text.slice(at, at + 102))?.[1] ?? '(unnamed)';
}

/**
 * Parses untrusted XML into XmlElement trees (the document element under its qualified name).
 * Text and attribute values are still entity-encoded; read them with decodeXmlText.
 */
export function parseUntrustedXml(input: Buffer | string, limits: XmlLimits = DEFAULT_XML_LIMITS, rawElements: RawElement[] = []): Record<string, XmlElement[]> {
  let stopNodes: string[] = [];
  const text = precheckXml(input, limits, (t) => (stopNodes = qualifiedNames(t, rawElements)));
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    const where = `line ${line}${col === undefined ? '' : `, column ${col}`}`;
    // The validator reports an unclosed element where it was opened: a body cut short (a
    // truncated upload, a proxy's size limit) reads better said as such.
    const unclosed = /^Unclosed tag '([^']{1,100})'\.$/.exec(msg);
    if (unclosed) throw new XmlRefusal('XML_MALFORMED', `malformed XML: <${unclosed[1]}> opened at ${where} is never closed (was the document cut short?)`);
    // Several unclosed: the validator lists their names as a JSON array and no useful position.
    const unclosedList = /^Invalid '(\[.*\])' found\.$/s.exec(msg);
    const names = unclosedList ? unclosedNames(unclosedList[1]) : null;
    if (names) {
      // Outermost first as the validator lists them; a long list is cut to what helps.
      const shown = names.slice(0, 5).map((n) => `<${n.slice(0, 100)}>`).join(', ') + (names.length > 5 ? `, … (${names.length} in all)` : '');
      throw new XmlRefusal('XML_MALFORMED', `malformed XML: ${shown} ${names.length > 1 ? 'are' : 'is'} never closed (was the document cut short?)`);
    }
    throw new XmlRefusal('XML_MALFORMED', `malformed XML at ${where}: ${msg}`);
  }
  try {
    return parserFor(limits.maxDepth, stopNodes.map((name) => `*.${name}`)).parse(text) as Record<string, XmlElement[]>;
  } catch (err) {
    const message = (err as Error).message;
    if (/nested tags/i.test(message)) throw new XmlRefusal('XML_TOO_DEEP', `the XML document nests deeper than ${limits.maxDepth} elements`);
    throw new XmlRefusal('XML_MALFORMED', `malformed XML: ${message}`);
  }
}
