// edXML package ⇄ the bus's JSON form (edoc.send / edoc.status payloads), driven by the tables
// in edxml-fields.ts.
// Reading is tolerant of the shapes QLVB systems really send (docs/qlvb-vendor-guide.md lists
// them): the envelope as root, SOAP-wrapped, or under the QCVN 102 SDK's `<edXML>` root with
// AttachmentEncoded outside the envelope; any prefix or the default namespace; `cid:` references
// with or without the prefix; the SDK's empty placeholders. Elements the tables do not know are
// carried through (payload.extensions, written back where they were) rather than refused. What
// is refused: unsafe XML (safe-xml.ts), structure that cannot be read unambiguously (a repeated
// single element, text where elements belong, a value of the wrong kind), each with its path.
// Writing produces one of three shapes (EdxmlShape), the receiving system's registry setting.
// Canonicalisations: elements in the standard's order, values trimmed and NFC-normalised, empty
// elements equal absent ones.
import { base64Fault } from './base64-fault.js';
import {
  EDXML_NS,
  XMLDSIG_NS,
  SOAP_NS,
  XLINK_NS,
  XSI_NS,
  XSD_NS,
  MESSAGE_HEADER_FIELDS,
  TRACE_HEADER_LIST_FIELDS,
  STATUS_FIELDS,
  REFERENCE_FIELDS,
  ENCODED_ATTACHMENT_FIELDS,
  type FieldSpec,
} from './edxml-fields.js';
import { DEFAULT_XML_LIMITS, decodeXmlText, parseUntrustedXml, XmlRefusal, type XmlElement, type XmlLimits } from './safe-xml.js';
import { childElements as children, childNames, writeParsedElement, type Namespaces } from './xml-element-writer.js';

export type EdocType = 'edoc.send' | 'edoc.status';

/**
 * The outer form of a package: `sdk` is the QCVN 102 SDK samples' `<edXML>` root holding
 * edXML:edXMLEnvelope with AttachmentEncoded after it (default namespace); `envelope` is
 * edXML:edXMLEnvelope as the root; `soap` wraps the header in soap Header and the manifest and
 * attachments in soap Body.
 */
export const EDXML_SHAPES = ['sdk', 'envelope', 'soap'] as const;
export type EdxmlShape = (typeof EDXML_SHAPES)[number];
/** What receiving systems get unless their registry entry says otherwise: what the SDK emits. */
export const DEFAULT_EDXML_SHAPE: EdxmlShape = 'sdk';

export interface DecodedPackage {
  type: EdocType;
  payload: Record<string, unknown>;
  /** The shape the package arrived in. */
  shape: EdxmlShape;
  /**
   * Elements named like an edXML element at their place but in another namespace: read as
   * extensions (a vendor's own elements may share a name), yet the likeliest reason a required
   * element is "missing" — a refusal says so (edoc-rules' inXmlTerms).
   */
  lookalikes: Lookalike[];
}

/** An element with an edXML element's local name, in another namespace (or none). */
export interface Lookalike {
  /** Where, as the field tables name it from the header: `MessageHeader/From`, `MessageHeader/To[2]`. */
  at: string;
  /** Its namespace URI; '' for no namespace. */
  namespace: string;
}

/** An element the field tables do not know, carried verbatim: `at` names where it was. */
export interface Extension {
  /** Anchor: the known element it sat in, e.g. MessageHeader/DocumentType, edXMLHeader, edXMLEnvelope. */
  at: string;
  /** The element as standalone XML. */
  xml: string;
}

/** The XML is well-formed but is not an edXML package this bus understands. */
export class EdxmlError extends Error {
  constructor(
    message: string,
    /** Element path, e.g. edXMLHeader/MessageHeader/Code/CodeNumber. */
    readonly path: string,
    /** The problem code: EDXML_INVALID, or the code the same fault has in the JSON form (one code per fault, whichever form a vendor sends). */
    readonly code: 'EDXML_INVALID' | 'DUPLICATE_ATTACHMENT' = 'EDXML_INVALID',
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

/** `cid:abc`, `<abc>` and `abc` name the same attachment. */
export function bareContentId(id: string): string {
  return id.trim().replace(/^cid:/i, '').replace(/^<(.*)>$/, '$1');
}

// ---------------------------------------------------------------------------------------------
// Reading

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

/**
 * The namespace and local name of elements that share a qualified name among siblings. The parser
 * groups siblings by qualified name, and one of them may redeclare its prefix: elements that
 * look alike but resolve to different namespaces would be read by their first one's namespace,
 * so a namespace-aware reader and the bus could disagree on what the package says (which To
 * organisations, which Subject). Such a package is refused instead.
 */
function resolveSiblings(qname: string, list: XmlElement[], ns: Namespaces, path: string): { uri: string; local: string } {
  const first = resolve(qname, scoped(list[0], ns), path);
  for (let i = 1; i < list.length; i++) {
    if (resolve(qname, scoped(list[i], ns), path).uri !== first.uri) {
      throw new EdxmlError(`the ${qname} elements here resolve to different namespaces (one redeclares its prefix): write each in one namespace`, `${path}/${qname}`);
    }
  }
  return first;
}

/** Collects what the tables do not know while a package is read. */
class Reader {
  readonly extensions: Extension[] = [];
  readonly lookalikes: Lookalike[] = [];

  /** Notes an element that has an edXML element's name at `at` but another namespace. */
  lookalike(at: string, uri: string): void {
    this.lookalikes.push({ at, namespace: uri });
  }

  carry(at: string, qname: string, el: XmlElement, ns: Namespaces): void {
    this.extensions.push({ at, xml: writeParsedElement(qname, el, ns) });
  }
}

function readText(el: XmlElement, path: string): string {
  if (childNames(el).length > 0) throw new EdxmlError('must hold text, not elements', path);
  let value = decodeXmlText(el['#text'] ?? '').trim();
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

function readValue(r: Reader, el: XmlElement, spec: FieldSpec, ns: Namespaces, path: string, at: string): unknown {
  switch (spec.kind) {
    case 'text': {
      const v = readText(el, path);
      return v === '' ? undefined : v;
    }
    case 'int':
      return readInt(el, path);
    case 'object':
      return readObject(r, el, spec.fields, scoped(el, ns), path, at);
    case 'wrapped': {
      const inner = scoped(el, ns);
      if (decodeXmlText(el['#text'] ?? '').trim() !== '') throw new EdxmlError('unexpected text', path);
      const items: unknown[] = [];
      for (const qname of childNames(el)) {
        const list = children(el, qname);
        const { uri, local } = resolveSiblings(qname, list, inner, path);
        if (uri !== EDXML_NS || local !== spec.item.xml) {
          if (local === spec.item.xml) list.forEach((_, i) => r.lookalike(`${at}/${local}[${i + 1}]`, uri));
          list.forEach((child) => r.carry(at, qname, child, inner));
          continue;
        }
        list.forEach((child, i) => {
          const v = readValue(r, child, spec.item, inner, `${path}/${spec.item.xml}[${i + 1}]`, `${at}/${spec.item.xml}[${i + 1}]`);
          if (!isEmpty(v)) items.push(v);
        });
      }
      return items.length > 0 ? items : undefined;
    }
  }
}

function readObject(r: Reader, el: XmlElement, fields: FieldSpec[], ns: Namespaces, path: string, at: string): Record<string, unknown> {
  if (decodeXmlText(el['#text'] ?? '').trim() !== '' || (el['#cdata']?.length ?? 0) > 0) throw new EdxmlError('unexpected text between elements', path);
  const byLocal = new Map(fields.map((f) => [f.xml, f]));
  const out: Record<string, unknown> = {};
  const seen = new Map<string, XmlElement[]>();
  for (const qname of childNames(el)) {
    const list = children(el, qname);
    const { uri, local } = resolveSiblings(qname, list, ns, path);
    const spec = byLocal.get(local);
    if (uri !== EDXML_NS || !spec) {
      if (spec) list.forEach((_, i) => r.lookalike(spec.repeat ? `${at}/${local}[${i + 1}]` : `${at}/${local}`, uri));
      list.forEach((child) => r.carry(at, qname, child, ns));
      continue;
    }
    seen.set(local, [...(seen.get(local) ?? []), ...list]);
  }
  for (const spec of fields) {
    const elements = seen.get(spec.xml);
    if (!elements) continue;
    if (!spec.repeat && elements.length > 1) throw new EdxmlError(`${spec.xml} may appear only once`, `${path}/${spec.xml}`);
    const values = elements
      .map((child, i) => (spec.repeat ? readValue(r, child, spec, ns, `${path}/${spec.xml}[${i + 1}]`, `${at}/${spec.xml}[${i + 1}]`) : readValue(r, child, spec, ns, `${path}/${spec.xml}`, `${at}/${spec.xml}`)))
      .filter((v) => !isEmpty(v));
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

interface Located {
  el: XmlElement;
  ns: Namespaces;
  path: string;
}

interface EnvelopeParts {
  shape: EdxmlShape;
  /** edXMLHeader (or soap Header). */
  header: Located;
  /** Elements that hold the manifest and encoded attachments. */
  bodies: Located[];
  /** XML-DSig signatures found outside the header (e.g. after the envelope). */
  signatures: string[];
}

const isSignature = (uri: string, local: string) => uri === XMLDSIG_NS && local === 'Signature';

/** The parts of edXMLHeader the codec reads; one of these names in another namespace is a lookalike. */
const HEADER_PARTS = new Set(['MessageHeader', 'TraceHeaderList', 'Status']);

function locateParts(r: Reader, root: Record<string, XmlElement[]>): EnvelopeParts {
  const rootNames = Object.keys(root);
  if (rootNames.length !== 1 || root[rootNames[0]].length !== 1) throw new EdxmlError('the document must have exactly one root element', '/');
  const rootName = rootNames[0];
  const top = root[rootName][0];
  const ns = scoped(top, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  const { uri, local } = resolve(rootName, ns, '');
  const signatures: string[] = [];
  const bodies: Located[] = [];

  /** The envelope's children: header and body found, the rest carried (or taken as signature / attachments). */
  const readEnvelope = (envelope: XmlElement, envNs: Namespaces, path: string): Located => {
    let header: Located | undefined;
    for (const qname of childNames(envelope)) {
      const list = children(envelope, qname);
      const found = resolveSiblings(qname, list, envNs, path);
      const once = () => {
        if (list.length > 1) throw new EdxmlError(`${found.local} may appear only once`, `${path}/${qname}`);
      };
      if (found.uri === EDXML_NS && found.local === 'edXMLHeader') {
        once();
        header = { el: list[0], ns: scoped(list[0], envNs), path: 'edXMLHeader' };
      } else if (found.uri === EDXML_NS && found.local === 'edXMLBody') {
        once();
        bodies.push({ el: list[0], ns: scoped(list[0], envNs), path: `${path}/edXMLBody` });
      } else if (found.uri === EDXML_NS && found.local === 'AttachmentEncoded') {
        bodies.push({ el: { [qname]: list }, ns: envNs, path });
      } else if (isSignature(found.uri, found.local)) {
        list.forEach((s) => signatures.push(rawElement(qname, s, envNs)));
      } else {
        list.forEach((child) => r.carry('edXMLEnvelope', qname, child, envNs));
      }
    }
    if (!header) throw new EdxmlError('edXMLHeader is required', path);
    return header;
  };

  if (uri === EDXML_NS && local === 'edXMLEnvelope') {
    return { shape: 'envelope', header: readEnvelope(top, ns, 'edXMLEnvelope'), bodies, signatures };
  }
  if (uri === EDXML_NS && local === 'edXML') {
    // The SDK shape: <edXML> holding the envelope, with AttachmentEncoded (and sometimes the
    // signature) beside it.
    let header: Located | undefined;
    for (const qname of childNames(top)) {
      const list = children(top, qname);
      const found = resolveSiblings(qname, list, ns, 'edXML');
      if (found.uri === EDXML_NS && found.local === 'edXMLEnvelope') {
        if (list.length > 1) throw new EdxmlError('edXMLEnvelope may appear only once', `edXML/${qname}`);
        header = readEnvelope(list[0], scoped(list[0], ns), 'edXML/edXMLEnvelope');
      } else if (found.uri === EDXML_NS && found.local === 'AttachmentEncoded') {
        bodies.push({ el: { [qname]: list }, ns, path: 'edXML' });
      } else if (isSignature(found.uri, found.local)) {
        list.forEach((s) => signatures.push(rawElement(qname, s, ns)));
      } else {
        list.forEach((child) => r.carry('edXML', qname, child, ns));
      }
    }
    if (!header) throw new EdxmlError('edXMLEnvelope is required inside the edXML root', 'edXML');
    return { shape: 'sdk', header, bodies, signatures };
  }
  if (SOAP_NS.includes(uri) && local === 'Envelope') {
    let header: Located | undefined;
    for (const qname of childNames(top)) {
      const list = children(top, qname);
      const found = resolveSiblings(qname, list, ns, 'Envelope');
      if (SOAP_NS.includes(found.uri) && (found.local === 'Header' || found.local === 'Body')) {
        if (list.length > 1) throw new EdxmlError(`${found.local} may appear only once`, `Envelope/${qname}`);
        const at = { el: list[0], ns: scoped(list[0], ns), path: `Envelope/${found.local}` };
        if (found.local === 'Header') header = at;
        else bodies.push(at);
      } else {
        list.forEach((child) => r.carry('edXMLEnvelope', qname, child, ns));
      }
    }
    if (!header) throw new EdxmlError('a SOAP-wrapped edXML package needs its edXML header in soap Header', 'Envelope');
    return { shape: 'soap', header, bodies, signatures };
  }
  throw new EdxmlError(`the root element must be edXML:edXMLEnvelope or edXML in namespace ${EDXML_NS} (or a SOAP Envelope), not ${rootName}${uri ? ` in namespace ${uri}` : ' in no namespace'}`, rootName);
}

/** Parts of an edXML body that must never ride inside another element unread. */
const BODY_PARTS = new Set(['edXMLManifest', 'AttachmentEncoded', 'edXMLBody']);

/**
 * The first edXML body part (manifest, attachments) found inside `el`, a few levels down at most
 * (an operation element, perhaps a parameter element in it), as "edXMLManifest"; else undefined.
 */
function nestedBodyPart(el: XmlElement, ns: Namespaces, depth = 0): string | undefined {
  if (depth > 3) return undefined;
  for (const qname of childNames(el)) {
    for (const child of children(el, qname)) {
      const childNs = scoped(child, ns);
      const colon = qname.indexOf(':');
      const local = colon === -1 ? qname : qname.slice(colon + 1);
      if (childNs.get(colon === -1 ? '' : qname.slice(0, colon)) === EDXML_NS && BODY_PARTS.has(local)) return local;
      const deeper = nestedBodyPart(child, childNs, depth + 1);
      if (deeper) return `${local}/${deeper}`;
    }
  }
  return undefined;
}

/** The manifest reference's id: ContentId, else the xlink:href the SDK writes. */
function referenceHref(el: XmlElement, ns: Namespaces): string | undefined {
  for (const [name, value] of Object.entries(el['@'] ?? {})) {
    const colon = name.indexOf(':');
    if (colon === -1 || name.startsWith('xmlns')) continue;
    if (name.slice(colon + 1) === 'href' && ns.get(name.slice(0, colon)) === XLINK_NS) return decodeXmlText(value).trim();
  }
  return undefined;
}

const TRANSFER_ENCODINGS = /^(base64|binary|7bit|8bit|quoted-printable)$/i;

function readAttachments(r: Reader, bodies: Located[], signatures: string[]): JsonAttachment[] {
  const references: Record<string, unknown>[] = [];
  const encoded: Record<string, unknown>[] = [];
  for (const body of bodies) {
    for (const qname of childNames(body.el)) {
      const list = children(body.el, qname);
      const { uri, local } = resolve(qname, scoped(list[0], body.ns), body.path);
      for (const el of list) {
        const ns = scoped(el, body.ns);
        const path = `${body.path}/${local}`;
        if (uri === EDXML_NS && local === 'edXMLManifest') {
          for (const refName of childNames(el)) {
            const refs = children(el, refName);
            const ref = resolve(refName, scoped(refs[0], ns), path);
            if (ref.uri !== EDXML_NS || ref.local !== 'Reference') {
              refs.forEach((child) => r.carry('edXMLManifest', refName, child, ns));
              continue;
            }
            for (const refEl of refs) {
              const index = references.length + 1;
              const refNs = scoped(refEl, ns);
              const value = readObject(r, refEl, REFERENCE_FIELDS, refNs, `${path}/Reference[${index}]`, `edXMLManifest/Reference[${index}]`);
              const href = referenceHref(refEl, refNs);
              references.push(value.contentId === undefined && href ? { ...value, contentId: href } : value);
            }
          }
        } else if (uri === EDXML_NS && local === 'AttachmentEncoded') {
          for (const attName of childNames(el)) {
            const atts = children(el, attName);
            const att = resolve(attName, scoped(atts[0], ns), path);
            if (att.uri !== EDXML_NS || att.local !== 'Attachment') {
              atts.forEach((child) => r.carry('AttachmentEncoded', attName, child, ns));
              continue;
            }
            for (const attEl of atts) {
              const index = encoded.length + 1;
              encoded.push(readObject(r, attEl, ENCODED_ATTACHMENT_FIELDS, scoped(attEl, ns), `AttachmentEncoded/Attachment[${index}]`, `AttachmentEncoded/Attachment[${index}]`));
            }
          }
        } else if (isSignature(uri, local)) {
          // A signature in the soap Body is still the package's signature.
          signatures.push(rawElement(qname, el, body.ns));
        } else {
          // Carried as it is, an element wrapping the manifest or the attachments (a SOAP
          // operation element, <ed:SendDocument>) took them past every check: the receiver got
          // a package without attachments and no digest was compared. Refused instead.
          const nested = nestedBodyPart(el, ns);
          if (nested) {
            throw new EdxmlError(
              `${nested} is inside <${qname}>: the bus reads the manifest and the attachments only where edXML puts them (directly in ${body.path.startsWith('Envelope/') ? 'soap Body' : body.path.split('/').pop()}); send them there, without the wrapping element`,
              `${path}/${nested}`,
            );
          }
          r.carry(body.path.endsWith('Body') ? 'edXMLBody' : 'edXML', qname, el, body.ns);
        }
      }
    }
  }
  const contentById = new Map<string, { content: string; meta: Record<string, unknown> }>();
  for (const [i, a] of encoded.entries()) {
    const path = `AttachmentEncoded/Attachment[${i + 1}]`;
    const id = a.contentId as string | undefined;
    if (!id) throw new EdxmlError('ContentId is required', `${path}/ContentId`);
    const transfer = ((a.contentTransferEncoded as string | undefined) ?? '').trim();
    let raw: string;
    if (a.value !== undefined) {
      if (transfer !== '' && transfer.toLowerCase() !== 'base64') throw new EdxmlError(`ContentTransferEncoded "${transfer.slice(0, 40)}" is not supported; use base64`, `${path}/ContentTransferEncoded`);
      raw = a.value as string;
    } else if (transfer !== '' && !TRANSFER_ENCODINGS.test(transfer)) {
      // The SDK samples put the base64 bytes in ContentTransferEncoded itself.
      raw = transfer;
    } else {
      throw new EdxmlError('the attachment carries no content (Value, or base64 in ContentTransferEncoded)', `${path}/Value`);
    }
    const value = raw.trim().replace(/^<!\[CDATA\[([\s\S]*)\]\]>$/, '$1').replace(/\s+/g, '');
    const field = a.value !== undefined ? 'Value' : 'ContentTransferEncoded';
    const fault = base64Fault(value, { padding: 'required' });
    if (fault) throw new EdxmlError(`${field} is not valid base64: ${fault}`, `${path}/${field}`);
    const bare = bareContentId(id);
    if (contentById.has(bare)) throw new EdxmlError(`ContentId ${id} appears twice (cid:x, <x> and x are the same id)`, `${path}/ContentId`, 'DUPLICATE_ATTACHMENT');
    contentById.set(bare, { content: value, meta: a });
  }
  const attachments: JsonAttachment[] = references.map((ref, i) => {
    const path = `edXMLBody/edXMLManifest/Reference[${i + 1}]`;
    const contentId = ref.contentId as string | undefined;
    if (!contentId) throw new EdxmlError('ContentId (or xlink:href) is required', `${path}/ContentId`);
    const found = contentById.get(bareContentId(contentId));
    if (found === undefined) throw new EdxmlError(`no AttachmentEncoded/Attachment carries ContentId ${contentId}`, `${path}/ContentId`);
    contentById.delete(bareContentId(contentId));
    const description = (ref.description ?? found.meta.description) as string | undefined;
    return {
      contentId,
      name: (ref.attachmentName as string | undefined) ?? (found.meta.attachmentName as string | undefined) ?? bareContentId(contentId),
      contentType: (ref.contentType as string | undefined) ?? (found.meta.contentType as string | undefined) ?? 'application/octet-stream',
      ...(description !== undefined ? { description } : {}),
      content: found.content,
    };
  });
  // Attachments the manifest forgot to list are still the package's attachments.
  for (const [bare, { content, meta }] of contentById) {
    attachments.push({
      contentId: meta.contentId as string,
      name: (meta.attachmentName as string | undefined) ?? bare,
      contentType: (meta.contentType as string | undefined) ?? 'application/octet-stream',
      ...(meta.description !== undefined ? { description: meta.description as string } : {}),
      content,
    });
  }
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
    { namespace: EDXML_NS, local: 'ContentTransferEncoded' },
  ]);
  const r = new Reader();
  const parts = locateParts(r, root);
  const { el: header, ns: headerNs, path: headerPath } = parts.header;
  let messageHeader: Located | undefined;
  let traceHeaderList: Located | undefined;
  let status: Located | undefined;
  const signatures: string[] = [];
  for (const qname of childNames(header)) {
    const list = children(header, qname);
    const itemNs = scoped(list[0], headerNs);
    const { uri, local } = resolve(qname, itemNs, headerPath);
    const single = () => {
      if (list.length > 1) throw new EdxmlError(`${local} may appear only once`, `${headerPath}/${qname}`);
      return { el: list[0], ns: itemNs, path: `${headerPath}/${local}` };
    };
    if (isSignature(uri, local)) list.forEach((s) => signatures.push(rawElement(qname, s, headerNs)));
    else if (uri === EDXML_NS && local === 'MessageHeader') messageHeader = single();
    else if (uri === EDXML_NS && local === 'TraceHeaderList') traceHeaderList = single();
    else if (uri === EDXML_NS && local === 'Status') status = single();
    else if (HEADER_PARTS.has(local)) {
      // MessageHeader in another namespace: carried like any foreign element, and noted.
      r.lookalike(local, uri);
      list.forEach((child) => r.carry('edXMLHeader', qname, child, headerNs));
    } else if (uri === EDXML_NS && local === 'DigitalSignature') {
      // The SDK's placeholder: empty when unsigned, or holding the XML-DSig Signature.
      for (const el of list) {
        const inner = scoped(el, headerNs);
        for (const sigName of childNames(el)) {
          const found = resolve(sigName, scoped(children(el, sigName)[0], inner), `${headerPath}/${local}`);
          if (isSignature(found.uri, found.local)) children(el, sigName).forEach((s) => signatures.push(rawElement(sigName, s, inner)));
          else children(el, sigName).forEach((child) => r.carry('edXMLHeader/DigitalSignature', sigName, child, inner));
        }
      }
    } else list.forEach((child) => r.carry('edXMLHeader', qname, child, headerNs));
  }
  signatures.push(...parts.signatures);
  let payload: Record<string, unknown>;
  let type: EdocType;
  if (status) {
    if (messageHeader || traceHeaderList) throw new EdxmlError('a status packet carries edXML:Status only, not a MessageHeader', headerPath);
    if (readAttachments(r, parts.bodies, signatures).length > 0) throw new EdxmlError('a status packet has no attachments', 'edXMLBody');
    type = 'edoc.status';
    payload = readObject(r, status.el, STATUS_FIELDS, status.ns, status.path, 'Status');
  } else {
    if (!messageHeader) {
      const misplaced = r.lookalikes.find((l) => l.at === 'MessageHeader' || l.at === 'Status');
      throw new EdxmlError(`edXML:MessageHeader (a document) or edXML:Status (a status packet) is required${misplaced ? `: the ${misplaced.at} here is ${inNamespace(misplaced.namespace)}, not in the edXML namespace ${EDXML_NS}` : ''}`, headerPath);
    }
    type = 'edoc.send';
    payload = { header: readObject(r, messageHeader.el, MESSAGE_HEADER_FIELDS, messageHeader.ns, messageHeader.path, 'MessageHeader') };
    if (traceHeaderList) {
      const trace = readObject(r, traceHeaderList.el, TRACE_HEADER_LIST_FIELDS, traceHeaderList.ns, traceHeaderList.path, 'TraceHeaderList');
      if (!isEmpty(trace)) payload.traceHeaderList = trace;
    }
    const attachments = readAttachments(r, parts.bodies, signatures);
    if (attachments.length > 0) payload.attachments = attachments;
  }
  if (signatures.length > 1) throw new EdxmlError('a package carries one XML-DSig Signature', headerPath);
  if (signatures.length === 1) payload.signature = signatures[0];
  if (r.extensions.length > 0) payload.extensions = r.extensions;
  return { type, payload, shape: parts.shape, lookalikes: r.lookalikes };
}

/** How a refusal names a lookalike's namespace. */
export function inNamespace(uri: string): string {
  return uri === '' ? 'in no namespace' : `in namespace ${uri}`;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Characters XML 1.0 cannot carry at all, even escaped. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function escapeXml(value: string, attribute = false): string {
  if (NOT_XML_CHAR.test(value)) throw new EdxmlError('value holds a character that XML cannot carry', '');
  const escaped = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return attribute ? escaped.replace(/"/g, '&quot;') : escaped;
}

/** Writes extensions back where they were read, once each. */
class Writer {
  private readonly extensions: Extension[];
  private readonly written = new Set<number>();

  constructor(
    extensions: unknown,
    /** Element prefix for edXML elements ('' in the SDK's default-namespace parts). */
    public prefix = 'edXML',
  ) {
    if (extensions !== undefined && !Array.isArray(extensions)) throw new EdxmlError('must be an array', 'extensions');
    this.extensions = (extensions ?? []) as Extension[];
  }

  tag(local: string): string {
    return this.prefix ? `${this.prefix}:${local}` : local;
  }

  /** Does any extension sit at this anchor or inside it (so the element must be written)? */
  hasUnder(at: string): boolean {
    return this.extensions.some((e, i) => !this.written.has(i) && typeof e?.at === 'string' && (e.at === at || e.at.startsWith(`${at}/`)));
  }

  /** The extensions anchored here, checked: one element each, never one the tables know here. */
  at(at: string, indent: string, known: FieldSpec[] | readonly string[] = []): string[] {
    const lines: string[] = [];
    const knownLocals = new Set(known.map((k) => (typeof k === 'string' ? k : k.xml)));
    this.extensions.forEach((e, i) => {
      if (this.written.has(i) || e?.at !== at) return;
      lines.push(indent + checkedExtension(e.xml, knownLocals, `extensions[${i}].xml`));
      this.written.add(i);
    });
    return lines;
  }

  /** Every extension must have found its place: one that did not names an unknown anchor. */
  finish(): void {
    this.extensions.forEach((e, i) => {
      if (!this.written.has(i)) throw new EdxmlError(`no element ${typeof e?.at === 'string' ? e.at.slice(0, 100) : '(missing)'} in this package to carry the extension`, `extensions[${i}].at`);
    });
  }
}

function writeValue(w: Writer, value: unknown, spec: FieldSpec, indent: string, path: string, at: string): string[] {
  const tag = w.tag(spec.xml);
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
      const inner = writeObject(w, (value ?? {}) as Record<string, unknown>, spec.fields, indent + '  ', path, at);
      return inner.length === 0 ? [`${indent}<${tag}/>`] : [`${indent}<${tag}>`, ...inner, `${indent}</${tag}>`];
    }
    case 'wrapped': {
      if (value !== undefined && !Array.isArray(value)) throw new EdxmlError('must be an array', path);
      const inner = ((value ?? []) as unknown[]).flatMap((item, i) => writeValue(w, item, spec.item, indent + '  ', `${path}[${i}]`, `${at}/${spec.item.xml}[${i + 1}]`));
      inner.push(...w.at(at, indent + '  ', [spec.item.xml]));
      return [`${indent}<${tag}>`, ...inner, `${indent}</${tag}>`];
    }
  }
}

function writeObject(w: Writer, obj: Record<string, unknown>, fields: FieldSpec[], indent: string, path: string, at: string): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new EdxmlError('must be an object', path);
  const known = new Set(fields.map((f) => f.json));
  const unknown = Object.keys(obj).find((k) => !known.has(k) && obj[k] !== undefined);
  if (unknown) throw new EdxmlError(`unknown property ${unknown}`, path ? `${path}.${unknown}` : unknown);
  const lines: string[] = [];
  for (const spec of fields) {
    const value = obj[spec.json];
    const field = path ? `${path}.${spec.json}` : spec.json;
    const anchor = `${at}/${spec.xml}`;
    if (spec.repeat) {
      if (isEmpty(value)) continue;
      if (!Array.isArray(value)) throw new EdxmlError('must be an array', field);
      value.forEach((v, i) => lines.push(...writeValue(w, v, spec, indent, `${field}[${i}]`, `${anchor}[${i + 1}]`)));
    } else if (!isEmpty(value) || (spec.kind !== 'text' && spec.kind !== 'int' && w.hasUnder(anchor))) {
      lines.push(...writeValue(w, value, spec, indent, field, anchor));
    }
  }
  lines.push(...w.at(at, indent, fields));
  return lines;
}

export interface EncodeOptions {
  /** base64 content of an attachment (when the JSON form does not carry `content`). */
  attachmentContent?: (attachment: JsonAttachment) => string | undefined;
  /** The outer form to write; `envelope` unless said (receivers get their registry setting). */
  shape?: EdxmlShape;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** Writes the edXML package for an edoc.send or edoc.status payload (the bus's JSON form). */
export function encodeEdxml(type: EdocType, payload: Record<string, unknown>, opts: EncodeOptions = {}): string {
  const shape = opts.shape ?? 'envelope';
  if (!EDXML_SHAPES.includes(shape)) throw new EdxmlError(`unknown shape ${String(shape)}`, 'shape');
  const { signature, extensions, signatureVerification: _verification, original: _original, ...rest } = payload as Record<string, unknown>;
  const w = new Writer(extensions);
  // Header and body parts, indented for the envelope shape's depth; the shapes only differ in
  // what surrounds them.
  const depth = shape === 'sdk' ? '    ' : '  ';
  const header: string[] = [];
  let attachments: JsonAttachment[] = [];
  if (type === 'edoc.status') {
    header.push(...writeValue(w, rest, { xml: 'Status', json: '', kind: 'object', fields: STATUS_FIELDS }, depth + '  ', '', 'Status'));
  } else {
    const { header: messageHeader, traceHeaderList, attachments: list, ...unknown } = rest as { header?: unknown; traceHeaderList?: unknown; attachments?: JsonAttachment[] };
    const extra = Object.keys(unknown).find((k) => (unknown as Record<string, unknown>)[k] !== undefined);
    if (extra) throw new EdxmlError(`unknown property ${extra}`, extra);
    header.push(...writeValue(w, messageHeader, { xml: 'MessageHeader', json: 'header', kind: 'object', fields: MESSAGE_HEADER_FIELDS }, depth + '  ', 'header', 'MessageHeader'));
    if (!isEmpty(traceHeaderList) || w.hasUnder('TraceHeaderList')) {
      header.push(...writeValue(w, traceHeaderList ?? {}, { xml: 'TraceHeaderList', json: 'traceHeaderList', kind: 'object', fields: TRACE_HEADER_LIST_FIELDS }, depth + '  ', 'traceHeaderList', 'TraceHeaderList'));
    }
    attachments = list ?? [];
  }
  if (signature !== undefined) header.push(`${depth}  ${checkedSignature(signature)}`);
  else if (shape === 'sdk' || w.hasUnder('edXMLHeader/DigitalSignature')) {
    // The SDK writes an empty DigitalSignature placeholder into unsigned packages.
    const inner = w.at('edXMLHeader/DigitalSignature', depth + '    ');
    header.push(inner.length === 0 ? `${depth}  <edXML:DigitalSignature/>` : [`${depth}  <edXML:DigitalSignature>`, ...inner, `${depth}  </edXML:DigitalSignature>`].join('\n'));
  }
  header.push(...w.at('edXMLHeader', depth + '  ', ['MessageHeader', 'TraceHeaderList', 'Status', 'DigitalSignature']));

  // Without any content (a check that the manifest can be written), AttachmentEncoded is left
  // out; with some, every attachment needs its bytes.
  const withContent = attachments.map((a) => ({ a, content: a.content ?? opts.attachmentContent?.(a) }));
  const anyContent = withContent.some((e) => e.content !== undefined);
  const encoded = anyContent
    ? withContent.map(({ a, content }, i) => {
        if (content === undefined) throw new EdxmlError(`no content for attachment ${a.contentId}`, `attachments[${i}]`);
        return { a, content };
      })
    : [];
  const manifest: string[] = [];
  if (attachments.length > 0 || w.hasUnder('edXMLManifest')) {
    const bodyDepth = shape === 'soap' ? '    ' : depth + '  ';
    manifest.push(`${bodyDepth}<edXML:edXMLManifest>`);
    attachments.forEach((a, i) => {
      const reference = { contentId: a.contentId, contentType: a.contentType, description: a.description, attachmentName: a.name };
      const lines = writeValue(w, reference, { xml: 'Reference', json: '', kind: 'object', fields: REFERENCE_FIELDS }, bodyDepth + '  ', `attachments[${i}]`, `edXMLManifest/Reference[${i + 1}]`);
      // The SDK binds the reference with xlink, as MIME-style references do.
      if (shape === 'sdk') lines[0] = lines[0].replace('<edXML:Reference>', `<edXML:Reference xmlns:xlink="${XLINK_NS}" xlink:href="cid:${escapeXml(bareContentId(a.contentId), true)}" xlink:type="simple">`);
      manifest.push(...lines);
    });
    manifest.push(...w.at('edXMLManifest', bodyDepth + '  ', ['Reference']), `${bodyDepth}</edXML:edXMLManifest>`);
  }
  const writeEncoded = (indent: string, prefix: string): string[] => {
    if (encoded.length === 0 && !w.hasUnder('AttachmentEncoded')) return [];
    w.prefix = prefix;
    const lines = [`${indent}<${w.tag('AttachmentEncoded')}>`];
    encoded.forEach(({ a, content }, i) => {
      // The SDK shape writes the bytes into ContentTransferEncoded (as its samples do) and the
      // bare id; the others say base64 and carry the bytes in Value.
      const attachment = prefix === ''
        ? { contentId: bareContentId(a.contentId), attachmentName: a.name, contentType: a.contentType, description: a.description, contentTransferEncoded: content }
        : { contentId: a.contentId, attachmentName: a.name, contentType: a.contentType, contentTransferEncoded: 'base64', value: content };
      lines.push(...writeValue(w, attachment, { xml: 'Attachment', json: '', kind: 'object', fields: ENCODED_ATTACHMENT_FIELDS }, indent + '  ', `attachments[${i}]`, `AttachmentEncoded/Attachment[${i + 1}]`));
    });
    lines.push(...w.at('AttachmentEncoded', indent + '  ', ['Attachment']), `${indent}</${w.tag('AttachmentEncoded')}>`);
    w.prefix = 'edXML';
    return lines;
  };

  const lines = [XML_DECLARATION];
  if (shape === 'soap') {
    lines.push(`<soap-env:Envelope xmlns:soap-env="${SOAP_NS[0]}" xmlns:edXML="${EDXML_NS}">`, '  <soap-env:Header>', ...header, '  </soap-env:Header>');
    const body = [...manifest, ...writeEncoded('    ', 'edXML'), ...w.at('edXMLBody', '    '), ...w.at('edXMLEnvelope', '    '), ...w.at('edXML', '    ')];
    lines.push(...(body.length > 0 ? ['  <soap-env:Body>', ...body, '  </soap-env:Body>'] : ['  <soap-env:Body/>']), '</soap-env:Envelope>', '');
    w.finish();
    return lines.join('\n');
  }
  const envelopeIndent = shape === 'sdk' ? '  ' : '';
  const envelope = [`${envelopeIndent}<edXML:edXMLEnvelope xmlns:edXML="${EDXML_NS}">`, `${envelopeIndent}  <edXML:edXMLHeader>`, ...header, `${envelopeIndent}  </edXML:edXMLHeader>`];
  const bodyExtras = w.at('edXMLBody', `${envelopeIndent}    `);
  if (manifest.length > 0 || bodyExtras.length > 0) envelope.push(`${envelopeIndent}  <edXML:edXMLBody>`, ...manifest, ...bodyExtras, `${envelopeIndent}  </edXML:edXMLBody>`);
  else envelope.push(`${envelopeIndent}  <edXML:edXMLBody/>`);
  if (shape === 'envelope') {
    envelope.push(...writeEncoded('  ', 'edXML'), ...w.at('edXMLEnvelope', '  '), ...w.at('edXML', '  '), '</edXML:edXMLEnvelope>', '');
    w.finish();
    return [XML_DECLARATION, ...envelope].join('\n');
  }
  envelope.push(...w.at('edXMLEnvelope', '    '), '  </edXML:edXMLEnvelope>');
  lines.push(`<edXML xmlns:xsi="${XSI_NS}" xmlns:xsd="${XSD_NS}" xmlns="${EDXML_NS}">`, ...envelope, ...writeEncoded('  ', ''), ...w.at('edXML', '  '), '</edXML>', '');
  w.finish();
  return lines.join('\n');
}

/**
 * A signature given in the JSON form is embedded verbatim into XML, so it must be exactly one
 * well-formed XML-DSig Signature element (anything else could inject elements into the package).
 */
export function checkedSignature(signature: unknown): string {
  if (typeof signature !== 'string') throw new EdxmlError('must be a string holding an XML-DSig Signature element', 'signature');
  const { uri, local } = singleElement(signature, 'signature', 256 * 1024);
  if (uri !== XMLDSIG_NS || local !== 'Signature') throw new EdxmlError(`must be a Signature element in namespace ${XMLDSIG_NS}`, 'signature');
  return signature.trim();
}

/**
 * An extension is embedded verbatim too: exactly one well-formed element, and never one that
 * would change what the package means to a reader of the XML (an element the field tables know
 * at that place, e.g. a second To, or a signature) — those travel in their own fields.
 */
export function checkedExtension(xml: unknown, knownHere: Set<string>, path: string): string {
  if (typeof xml !== 'string') throw new EdxmlError('must be a string holding one XML element', path);
  const { uri, local } = singleElement(xml, path, 64 * 1024);
  if (uri === XMLDSIG_NS) throw new EdxmlError('an XML-DSig element travels in `signature`, not as an extension', path);
  if (uri === EDXML_NS && knownHere.has(local)) throw new EdxmlError(`${local} is an edXML field here; send it in its JSON property`, path);
  return xml.trim();
}

function singleElement(xml: string, path: string, maxBytes: number): { uri: string; local: string } {
  let root: Record<string, XmlElement[]>;
  try {
    root = parseUntrustedXml(xml, { maxBytes, maxDepth: 16, maxElements: 2000 });
  } catch (err) {
    if (err instanceof XmlRefusal) throw new EdxmlError(`is not well-formed XML: ${err.message}`, path);
    throw err;
  }
  const names = Object.keys(root);
  if (names.length !== 1 || root[names[0]].length !== 1) throw new EdxmlError('must be exactly one element', path);
  if (/^\s*<\?/.test(xml)) throw new EdxmlError('must not start with an XML declaration', path);
  return resolve(names[0], scoped(root[names[0]][0], new Map()), path);
}
