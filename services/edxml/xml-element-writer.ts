// Writes a parsed element (safe-xml.ts's XmlElement) back out as XML text, so elements the
// edXML field tables do not know can be carried through to the receiver instead of refused.
// What survives: the element, its attributes, text, CDATA and children, with the namespace
// declarations it needs from the enclosing scope added to its start tag so it stands alone.
// What does not: the relative order of differently named children and of text between them
// (the parser groups children by name); the signed original bytes are what keeps a document
// byte-exact (see docs/qlvb-vendor-guide.md).
import type { XmlElement } from './safe-xml.js';

export type Namespaces = Map<string, string>;

const STRUCTURAL = new Set(['@', '#text', '#cdata']);

export function childNames(el: XmlElement): string[] {
  return Object.keys(el).filter((k) => !STRUCTURAL.has(k));
}

export function childElements(el: XmlElement, qname: string): XmlElement[] {
  return (el[qname] as XmlElement[] | undefined) ?? [];
}

const prefixOf = (qname: string) => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');

function usedPrefixes(qname: string, el: XmlElement, out: Set<string>): Set<string> {
  out.add(prefixOf(qname));
  for (const name of Object.keys(el['@'] ?? {})) if (name.includes(':') && !name.startsWith('xmlns:')) out.add(prefixOf(name));
  for (const child of childNames(el)) for (const c of childElements(el, child)) usedPrefixes(child, c, out);
  return out;
}

const attributeText = (attrs: Record<string, string>) => Object.entries(attrs).map(([k, v]) => ` ${k}="${v.replace(/"/g, '&quot;')}"`).join('');

function write(qname: string, el: XmlElement, attrs: Record<string, string>): string {
  // Text and attribute values are still entity-encoded (the parser does not decode them).
  const text = el['#text'] ?? '';
  const cdata = (el['#cdata'] ?? []).map((c) => `<![CDATA[${c['#text'] ?? ''}]]>`).join('');
  const kids = childNames(el).flatMap((name) => childElements(el, name).map((c) => write(name, c, c['@'] ?? {})));
  if (text === '' && cdata === '' && kids.length === 0) return `<${qname}${attributeText(attrs)}/>`;
  return `<${qname}${attributeText(attrs)}>${text}${cdata}${kids.join('')}</${qname}>`;
}

/** The element as standalone XML: every namespace prefix it uses is declared on its start tag. */
export function writeParsedElement(qname: string, el: XmlElement, scope: Namespaces): string {
  const attrs = { ...(el['@'] ?? {}) };
  for (const prefix of usedPrefixes(qname, el, new Set())) {
    if (prefix === 'xml') continue;
    const declaration = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
    if (attrs[declaration] !== undefined) continue;
    const uri = scope.get(prefix);
    // An unprefixed element outside any namespace says so, so that a default namespace where it
    // is written (the SDK shape declares one on its root) does not capture it.
    if (uri !== undefined || prefix === '') attrs[declaration] = (uri ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  }
  return write(qname, el, attrs);
}
