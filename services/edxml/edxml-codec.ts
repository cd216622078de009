// edXML package ⇄ the bus's JSON form (edoc.send / edoc.status payloads), driven by the tables
// in edxml-fields.ts. Reading refuses what it does not understand (unknown elements, elements
// outside the edXML namespace, a repeated single element, text where elements belong) instead
// of dropping it silently: what is accepted round-trips XML → JSON → XML with every field.
// Canonicalisations (documented in docs/qlvb-vendor-guide.md): elements are written in the
// standard's order, values are trimmed and NFC-normalised, empty elements equal absent ones,
// and the envelope is always written as edXML:edXMLEnvelope (a SOAP-wrapped input included).
import {
  EDXML_NS,
  XMLDSIG_NS,
  SOAP_NS,
  MESSAGE_HEADER_FIELDS,
  TRACE_HEADER_LIST_FIELDS,
  STATUS_FIELDS,
  REFERENCE_FIELDS,
  ENCODED_ATTACHMENT_FIELDS,
  type FieldSpec,
} from './edxml-fields.js';
import { DEFAULT_XML_LIMITS, decodeXmlText, parseUntrustedXml, XmlRefusal, type XmlElement, type XmlLimits } from './safe-xml.js';

export type EdocType = 'edoc.send' | 'edoc.status';

export interface DecodedPackage {
  type: EdocType;
  payload: Record<string, unknown>;
}

/** The XML is well-formed but is not an edXML package this bus understands. */
export class EdxmlError extends Error {
  constructor(
    message: string,
    /** Element path, e.g. edXMLHeader/MessageHeader/Code/CodeNumber. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'EdxmlError';
  }
}

export interface JsonAttachment {
  contentId: string;
  name: string;
  contentType: string;
  description?: string;
  size?: number;
  sha256?: string;
  /** base64 bytes; only on the way in (the gateway moves them to the attachment store). */
  content?: string;
}

// ---------------------------------------------------------------------------------------------
// Reading

type Namespaces = Map<string, string>;

const STRUCTURAL = new Set(['@', '#text', '#cdata']);

function scoped(el: XmlElement, parent: Namespaces): Namespaces {
  const attrs = el['@'];
  if (!attrs) return parent;
  let ns: Namespaces | null = null;
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      ns ??= new Map(parent);
      ns.set(name === 'xmlns' ? '' : name.slice(6), decodeXmlText(value));
    }
  }
  return ns ?? parent;
}

function resolve(qname: string, ns: Namespaces, path: string): { uri: string; local: string } {
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  const uri = ns.get(prefix);
  if (uri === undefined && prefix !== '') throw new EdxmlError(`namespace prefix "${prefix}" is not declared`, `${path}/${qname}`);
  return { uri: uri ?? '', local };
}

function childNames(el: XmlElement): string[] {
  return Object.keys(el).filter((k) => !STRUCTURAL.has(k));
}

function children(el: XmlElement, qname: string): XmlElement[] {
  return (el[qname] as XmlElement[] | undefined) ?? [];
}

function readText(el: XmlElement, path: string): string {
  if (childNames(el).length > 0) throw new EdxmlError('must hold text, not elements', path);
  let value = decodeXmlText(el['#text'] ?? '');
  const cdata = el['#cdata'];
  if (cdata && cdata.length > 0) {
    if (value !== '' || cdata.length > 1) throw new EdxmlError('mixing CDATA sections with other text in one element is not supported', path);
    value = (cdata[0]['#text'] ?? '').trim();
  }
  return value.normalize('NFC');
}

function readInt(el: XmlElement, path: string): number | undefined {
  const value = readText(el, path);
  if (value === '') return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) throw new EdxmlError(`must be a non-negative integer, got "${value.slice(0, 40)}"`, path);
  return Number(value);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === '' || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
}

function readValue(el: XmlElement, spec: FieldSpec, ns: Namespaces, path: string): unknown {
  switch (spec.kind) {
    case 'text': {
      const v = readText(el, path);
      return v === '' ? undefined : v;
    }
    case 'int':
      return readInt(el, path);
    case 'object':
      return readObject(el, spec.fields, scoped(el, ns), path);
    case 'wrapped': {
      const inner = scoped(el, ns);
      if (decodeXmlText(el['#text'] ?? '') !== '') throw new EdxmlError('unexpected text', path);
      const items: unknown[] = [];
      for (const qname of childNames(el)) {
        const { uri, local } = resolve(qname, scoped(children(el, qname)[0], inner), path);
        if (uri !== EDXML_NS || local !== spec.item.xml) throw new EdxmlError(`unexpected element ${qname}; only ${spec.item.xml} belongs here`, `${path}/${qname}`);
      }
      for (const qname of childNames(el)) {
        children(el, qname).forEach((child, i) => {
          const v = readValue(child, spec.item, inner, `${path}/${spec.item.xml}[${i + 1}]`);
          if (!isEmpty(v)) items.push(v);
        });
      }
      return items.length > 0 ? items : undefined;
    }
  }
}

function readObject(el: XmlElement, fields: FieldSpec[], ns: Namespaces, path: string): Record<string, unknown> {
  if (decodeXmlText(el['#text'] ?? '') !== '' || (el['#cdata']?.length ?? 0) > 0) throw new EdxmlError('unexpected text between elements', path);
  const byLocal = new Map(fields.map((f) => [f.xml, f]));
  const out: Record<string, unknown> = {};
  const seen = new Map<string, XmlElement[]>();
  for (const qname of childNames(el)) {
    const { uri, local } = resolve(qname, scoped(children(el, qname)[0], ns), path);
    const spec = byLocal.get(local);
    if (uri !== EDXML_NS || !spec) throw new EdxmlError(`unknown element ${qname}`, `${path}/${qname}`);
    seen.set(local, [...(seen.get(local) ?? []), ...children(el, qname)]);
  }
  for (const spec of fields) {
    const elements = seen.get(spec.xml);
    if (!elements) continue;
    if (!spec.repeat && elements.length > 1) throw new EdxmlError(`${spec.xml} may appear only once`, `${path}/${spec.xml}`);
    const values = elements.map((child, i) => readValue(child, spec, ns, spec.repeat ? `${path}/${spec.xml}[${i + 1}]` : `${path}/${spec.xml}`)).filter((v) => !isEmpty(v));
    if (values.length === 0) continue;
    out[spec.json] = spec.repeat ? values : values[0];
  }
  return out;
}

/** Re-serialises a raw (stop-node) element, e.g. an XML-DSig Signature, keeping its namespace. */
function rawElement(qname: string, el: XmlElement, ns: Namespaces): string {
  const attrs = { ...(el['@'] ?? {}) };
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const declaration = prefix ? `xmlns:${prefix}` : 'xmlns';
  if (attrs[declaration] === undefined && ns.get(prefix) !== undefined) attrs[declaration] = escapeXml(ns.get(prefix)!, true);
  const attrText = Object.entries(attrs).map(([k, v]) => ` ${k}="${v.replace(/"/g, '&quot;')}"`).join('');
  return `<${qname}${attrText}>${el['#text'] ?? ''}</${qname}>`;
}

interface EnvelopeParts {
  /** Children of edXMLHeader (or soap Header). */
  header: XmlElement;
  headerNs: Namespaces;
  headerPath: string;
  /** Elements that hold the manifest and encoded attachments. */
  bodies: { el: XmlElement; ns: Namespaces; path: string }[];
}

function locateParts(root: Record<string, XmlElement[]>): EnvelopeParts {
  const rootNames = Object.keys(root);
  if (rootNames.length !== 1 || root[rootNames[0]].length !== 1) throw new EdxmlError('the document must have exactly one root element', '/');
  const rootName = rootNames[0];
  const envelope = root[rootName][0];
  const ns = scoped(envelope, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  const { uri, local } = resolve(rootName, ns, '');
  const pick = (parent: XmlElement, parentNs: Namespaces, path: string, wanted: { uri: string[]; local: string }[]) => {
    const found: Record<string, { el: XmlElement; qname: string }> = {};
    for (const qname of childNames(parent)) {
      const r = resolve(qname, scoped(children(parent, qname)[0], parentNs), path);
      const match = wanted.find((w) => w.uri.includes(r.uri) && w.local === r.local);
      if (!match) throw new EdxmlError(`unknown element ${qname}`, `${path}/${qname}`);
      const list = children(parent, qname);
      if (list.length > 1 || found[match.local]) throw new EdxmlError(`${match.local} may appear only once`, `${path}/${qname}`);
      found[match.local] = { el: list[0], qname };
    }
    return found;
  };
  if (uri === EDXML_NS && local === 'edXMLEnvelope') {
    const parts = pick(envelope, ns, 'edXMLEnvelope', [
      { uri: [EDXML_NS], local: 'edXMLHeader' },
      { uri: [EDXML_NS], local: 'edXMLBody' },
      { uri: [EDXML_NS], local: 'AttachmentEncoded' },
    ]);
    if (!parts.edXMLHeader) throw new EdxmlError('edXMLHeader is required', 'edXMLEnvelope');
    const bodies: EnvelopeParts['bodies'] = [];
    if (parts.edXMLBody) bodies.push({ el: parts.edXMLBody.el, ns: scoped(parts.edXMLBody.el, ns), path: 'edXMLEnvelope/edXMLBody' });
    if (parts.AttachmentEncoded) bodies.push({ el: { [parts.AttachmentEncoded.qname]: [parts.AttachmentEncoded.el] }, ns, path: 'edXMLEnvelope' });
    const header = parts.edXMLHeader.el;
    return { header, headerNs: scoped(header, ns), headerPath: 'edXMLHeader', bodies };
  }
  if (SOAP_NS.includes(uri) && local === 'Envelope') {
    const parts = pick(envelope, ns, 'Envelope', [
      { uri: SOAP_NS, local: 'Header' },
      { uri: SOAP_NS, local: 'Body' },
    ]);
    if (!parts.Header) throw new EdxmlError('a SOAP-wrapped edXML package needs its edXML header in soap Header', 'Envelope');
    const bodies = parts.Body ? [{ el: parts.Body.el, ns: scoped(parts.Body.el, ns), path: 'Envelope/Body' }] : [];
    return { header: parts.Header.el, headerNs: scoped(parts.Header.el, ns), headerPath: 'Envelope/Header', bodies };
  }
  throw new EdxmlError(`the root element must be edXML:edXMLEnvelope in namespace ${EDXML_NS} (or a SOAP Envelope), not ${rootName}`, rootName);
}

function readAttachments(bodies: EnvelopeParts['bodies']): JsonAttachment[] {
  const references: Record<string, unknown>[] = [];
  const encoded: Record<string, unknown>[] = [];
  for (const body of bodies) {
    for (const qname of childNames(body.el)) {
      const { uri, local } = resolve(qname, scoped(children(body.el, qname)[0], body.ns), body.path);
      for (const el of children(body.el, qname)) {
        const ns = scoped(el, body.ns);
        const path = `${body.path}/${local}`;
        if (uri === EDXML_NS && local === 'edXMLManifest') {
          references.push(...((readObject(el, [{ xml: 'Reference', json: 'references', kind: 'object', fields: REFERENCE_FIELDS, repeat: true }], ns, path).references as Record<string, unknown>[]) ?? []));
        } else if (uri === EDXML_NS && local === 'AttachmentEncoded') {
          encoded.push(...((readObject(el, [{ xml: 'Attachment', json: 'attachments', kind: 'object', fields: ENCODED_ATTACHMENT_FIELDS, repeat: true }], ns, path).attachments as Record<string, unknown>[]) ?? []));
        } else {
          throw new EdxmlError(`unknown element ${qname}`, `${body.path}/${qname}`);
        }
      }
    }
  }
  const contentById = new Map<string, string>();
  for (const [i, a] of encoded.entries()) {
    const path = `AttachmentEncoded/Attachment[${i + 1}]`;
    const id = a.contentId as string | undefined;
    if (!id) throw new EdxmlError('ContentId is required', path);
    const encoding = ((a.contentTransferEncoded as string | undefined) ?? 'base64').toLowerCase();
    if (encoding !== 'base64') throw new EdxmlError(`ContentTransferEncoded "${encoding}" is not supported; use base64`, `${path}/ContentTransferEncoded`);
    const value = ((a.value as string | undefined) ?? '').trim().replace(/^<!\[CDATA\[([\s\S]*)\]\]>$/, '$1').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw new EdxmlError('Value is not valid base64', `${path}/Value`);
    if (contentById.has(id)) throw new EdxmlError(`ContentId ${id} appears twice`, path);
    contentById.set(id, value);
  }
  const attachments: JsonAttachment[] = references.map((r, i) => {
    const path = `edXMLBody/edXMLManifest/Reference[${i + 1}]`;
    const contentId = r.contentId as string | undefined;
    if (!contentId) throw new EdxmlError('ContentId is required', path);
    const content = contentById.get(contentId);
    if (content === undefined) throw new EdxmlError(`no AttachmentEncoded/Attachment carries ContentId ${contentId}`, path);
    contentById.delete(contentId);
    return {
      contentId,
      name: (r.attachmentName as string | undefined) ?? contentId,
      contentType: (r.contentType as string | undefined) ?? 'application/octet-stream',
      ...(r.description !== undefined ? { description: r.description as string } : {}),
      content,
    };
  });
  if (contentById.size > 0) throw new EdxmlError(`attachment ${[...contentById.keys()][0]} is not listed in edXMLManifest`, 'AttachmentEncoded');
  return attachments;
}

/**
 * Reads an edXML package (document or status packet) from untrusted XML. Throws XmlRefusal for
 * unsafe or malformed XML and EdxmlError for XML that is not an edXML package.
 */
export function decodeEdxml(xml: Buffer | string, limits: XmlLimits = DEFAULT_XML_LIMITS): DecodedPackage {
  // The signature is carried verbatim; attachment values (base64, up to megabytes) are read raw.
  const root = parseUntrustedXml(xml, limits, [
    { namespace: XMLDSIG_NS, local: 'Signature' },
    { namespace: EDXML_NS, local: 'Value' },
  ]);
  const parts = locateParts(root);
  const { header, headerNs, headerPath } = parts;
  let messageHeader: XmlElement | undefined;
  let traceHeaderList: XmlElement | undefined;
  let status: XmlElement | undefined;
  let signature: string | undefined;
  for (const qname of childNames(header)) {
    const list = children(header, qname);
    const { uri, local } = resolve(qname, scoped(list[0], headerNs), headerPath);
    if (list.length > 1) throw new EdxmlError(`${local} may appear only once`, `${headerPath}/${qname}`);
    if (uri === XMLDSIG_NS && local === 'Signature') signature = rawElement(qname, list[0], headerNs);
    else if (uri === EDXML_NS && local === 'MessageHeader') messageHeader = list[0];
    else if (uri === EDXML_NS && local === 'TraceHeaderList') traceHeaderList = list[0];
    else if (uri === EDXML_NS && local === 'Status') status = list[0];
    else throw new EdxmlError(`unknown element ${qname}`, `${headerPath}/${qname}`);
  }
  if (status) {
    if (messageHeader || traceHeaderList) throw new EdxmlError('a status packet carries edXML:Status only, not a MessageHeader', headerPath);
    if (parts.bodies.some((b) => childNames(b.el).length > 0)) throw new EdxmlError('a status packet has no attachments', 'edXMLBody');
    const payload = readObject(status, STATUS_FIELDS, scoped(status, headerNs), `${headerPath}/Status`);
    return { type: 'edoc.status', payload: signature ? { ...payload, signature } : payload };
  }
  if (!messageHeader) throw new EdxmlError('edXML:MessageHeader (a document) or edXML:Status (a status packet) is required', headerPath);
  const payload: Record<string, unknown> = {
    header: readObject(messageHeader, MESSAGE_HEADER_FIELDS, scoped(messageHeader, headerNs), `${headerPath}/MessageHeader`),
  };
  if (traceHeaderList) {
    const trace = readObject(traceHeaderList, TRACE_HEADER_LIST_FIELDS, scoped(traceHeaderList, headerNs), `${headerPath}/TraceHeaderList`);
    if (!isEmpty(trace)) payload.traceHeaderList = trace;
  }
  const attachments = readAttachments(parts.bodies);
  if (attachments.length > 0) payload.attachments = attachments;
  if (signature) payload.signature = signature;
  return { type: 'edoc.send', payload };
}

// ---------------------------------------------------------------------------------------------
// Writing

const PREFIX = 'edXML';

/** Characters XML 1.0 cannot carry at all, even escaped. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function escapeXml(value: string, attribute = false): string {
  if (NOT_XML_CHAR.test(value)) throw new EdxmlError('value holds a character that XML cannot carry', '');
  const escaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return attribute ? escaped.replace(/"/g, '&quot;') : escaped;
}

function writeValue(value: unknown, spec: FieldSpec, indent: string, path: string): string[] {
  const tag = `${PREFIX}:${spec.xml}`;
  switch (spec.kind) {
    case 'text':
    case 'int': {
      if (spec.kind === 'int' && !Number.isInteger(value)) throw new EdxmlError('must be an integer', path);
      if (spec.kind === 'text' && typeof value !== 'string') throw new EdxmlError('must be a string', path);
      try {
        return [`${indent}<${tag}>${escapeXml(String(value))}</${tag}>`];
      } catch (err) {
        throw new EdxmlError((err as Error).message, path);
      }
    }
    case 'object': {
      const inner = writeObject(value as Record<string, unknown>, spec.fields, indent + '  ', path);
      return [`${indent}<${tag}>`, ...inner, `${indent}</${tag}>`];
    }
    case 'wrapped': {
      if (!Array.isArray(value)) throw new EdxmlError('must be an array', path);
      const inner = value.flatMap((item, i) => writeValue(item, spec.item, indent + '  ', `${path}[${i}]`));
      return [`${indent}<${tag}>`, ...inner, `${indent}</${tag}>`];
    }
  }
}

function writeObject(obj: Record<string, unknown>, fields: FieldSpec[], indent: string, path: string): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new EdxmlError('must be an object', path);
  const known = new Set(fields.map((f) => f.json));
  const unknown = Object.keys(obj).find((k) => !known.has(k) && obj[k] !== undefined);
  if (unknown) throw new EdxmlError(`unknown property ${unknown}`, path ? `${path}.${unknown}` : unknown);
  const lines: string[] = [];
  for (const spec of fields) {
    const value = obj[spec.json];
    if (isEmpty(value)) continue;
    const at = path ? `${path}.${spec.json}` : spec.json;
    if (spec.repeat) {
      if (!Array.isArray(value)) throw new EdxmlError('must be an array', at);
      value.forEach((v, i) => lines.push(...writeValue(v, spec, indent, `${at}[${i}]`)));
    } else {
      lines.push(...writeValue(value, spec, indent, at));
    }
  }
  return lines;
}

export interface EncodeOptions {
  /** base64 content of an attachment (when the JSON form does not carry `content`). */
  attachmentContent?: (attachment: JsonAttachment) => string | undefined;
}

/** Writes the edXML package for an edoc.send or edoc.status payload (the bus's JSON form). */
export function encodeEdxml(type: EdocType, payload: Record<string, unknown>, opts: EncodeOptions = {}): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<${PREFIX}:edXMLEnvelope xmlns:${PREFIX}="${EDXML_NS}">`, `  <${PREFIX}:edXMLHeader>`];
  const { signature, ...rest } = payload as { signature?: unknown } & Record<string, unknown>;
  let attachments: JsonAttachment[] = [];
  if (type === 'edoc.status') {
    lines.push(...writeValue(rest, { xml: 'Status', json: '', kind: 'object', fields: STATUS_FIELDS }, '    ', ''));
  } else {
    const { header, traceHeaderList, attachments: list, ...unknown } = rest as { header?: unknown; traceHeaderList?: unknown; attachments?: JsonAttachment[] };
    const extra = Object.keys(unknown).find((k) => (unknown as Record<string, unknown>)[k] !== undefined);
    if (extra) throw new EdxmlError(`unknown property ${extra}`, extra);
    lines.push(...writeValue(header, { xml: 'MessageHeader', json: 'header', kind: 'object', fields: MESSAGE_HEADER_FIELDS }, '    ', 'header'));
    if (!isEmpty(traceHeaderList)) lines.push(...writeValue(traceHeaderList, { xml: 'TraceHeaderList', json: 'traceHeaderList', kind: 'object', fields: TRACE_HEADER_LIST_FIELDS }, '    ', 'traceHeaderList'));
    attachments = list ?? [];
  }
  if (signature !== undefined) lines.push(`    ${checkedSignature(signature)}`);
  lines.push(`  </${PREFIX}:edXMLHeader>`);
  if (attachments.length > 0) {
    lines.push(`  <${PREFIX}:edXMLBody>`, `    <${PREFIX}:edXMLManifest>`);
    attachments.forEach((a, i) => {
      const reference = { contentId: a.contentId, contentType: a.contentType, description: a.description, attachmentName: a.name };
      lines.push(...writeValue(reference, { xml: 'Reference', json: '', kind: 'object', fields: REFERENCE_FIELDS }, '      ', `attachments[${i}]`));
    });
    lines.push(`    </${PREFIX}:edXMLManifest>`, `  </${PREFIX}:edXMLBody>`);
    const encoded = attachments.map((a) => ({ a, content: a.content ?? opts.attachmentContent?.(a) }));
    if (encoded.some((e) => e.content !== undefined)) {
      lines.push(`  <${PREFIX}:AttachmentEncoded>`);
      encoded.forEach(({ a, content }, i) => {
        if (content === undefined) throw new EdxmlError(`no content for attachment ${a.contentId}`, `attachments[${i}]`);
        const attachment = { contentId: a.contentId, attachmentName: a.name, contentType: a.contentType, contentTransferEncoded: 'base64', value: content };
        lines.push(...writeValue(attachment, { xml: 'Attachment', json: '', kind: 'object', fields: ENCODED_ATTACHMENT_FIELDS }, '    ', `attachments[${i}]`));
      });
      lines.push(`  </${PREFIX}:AttachmentEncoded>`);
    }
  } else {
    lines.push(`  <${PREFIX}:edXMLBody/>`);
  }
  lines.push(`</${PREFIX}:edXMLEnvelope>`, '');
  return lines.join('\n');
}

/**
 * A signature given in the JSON form is embedded verbatim into XML, so it must be exactly one
 * well-formed XML-DSig Signature element (anything else could inject elements into the package).
 */
export function checkedSignature(signature: unknown): string {
  if (typeof signature !== 'string') throw new EdxmlError('must be a string holding an XML-DSig Signature element', 'signature');
  let root: Record<string, XmlElement[]>;
  try {
    root = parseUntrustedXml(signature, { maxBytes: 256 * 1024, maxDepth: 16, maxElements: 2000 });
  } catch (err) {
    if (err instanceof XmlRefusal) throw new EdxmlError(`is not well-formed XML: ${err.message}`, 'signature');
    throw err;
  }
  const names = Object.keys(root);
  if (names.length !== 1 || root[names[0]].length !== 1) throw new EdxmlError('must be exactly one Signature element', 'signature');
  const { uri, local } = resolve(names[0], scoped(root[names[0]][0], new Map()), 'signature');
  if (uri !== XMLDSIG_NS || local !== 'Signature') throw new EdxmlError(`must be a Signature element in namespace ${XMLDSIG_NS}`, 'signature');
  if (/^\s*<\?/.test(signature)) throw new EdxmlError('must not start with an XML declaration', 'signature');
  return signature.trim();
}
