// Where a field of the JSON form sits in an edXML package. A package posted as XML is read into
// the JSON form and checked there, so a refusal names `payload.header.code.codeNumber`; a QLVB
// vendor who wrote XML needs `edXMLHeader/MessageHeader/Code/CodeNumber`. Walks the same field
// tables the codec reads and writes with (edxml-fields.ts), so the two cannot drift apart.
import { MESSAGE_HEADER_FIELDS, STATUS_FIELDS, TRACE_HEADER_LIST_FIELDS, type FieldSpec } from './edxml-fields.js';
import type { EdocType, EdxmlShape } from './edxml-codec.js';

/** Where the codec finds edXMLHeader in each shape (its own refusals name paths from there). */
function headerPath(shape: EdxmlShape): string {
  return shape === 'soap' ? 'Envelope/Header' : 'edXMLHeader';
}

/** The JSON form's top-level parts that are elements, by message type. */
const TOP_LEVEL: Record<EdocType, Record<string, { element: string; fields: FieldSpec[] }>> = {
  'edoc.send': {
    header: { element: 'MessageHeader', fields: MESSAGE_HEADER_FIELDS },
    traceHeaderList: { element: 'TraceHeaderList', fields: TRACE_HEADER_LIST_FIELDS },
  },
  'edoc.status': {},
};

/** `payload.header.to.1.organId` or `payload.header.to[1].organId` → ['header', 'to', '1', 'organId']. */
function segmentsOf(field: string): string[] | null {
  if (!field.startsWith('payload.')) return null;
  return field.slice('payload.'.length).replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
}

const isIndex = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);

/** Follows `segments` through `fields`; null as soon as one names no element. */
function walk(fields: FieldSpec[], segments: string[], path: string): string | null {
  if (segments.length === 0) return path;
  const [name, ...rest] = segments;
  const spec = fields.find((f) => f.json === name);
  if (!spec) return null;
  let at = `${path}/${spec.xml}`;
  if (spec.repeat && isIndex(rest[0])) at += `[${Number(rest.shift()) + 1}]`;
  if (spec.kind === 'object') return walk(spec.fields, rest, at);
  if (spec.kind === 'wrapped') {
    if (rest.length === 0) return at;
    if (!isIndex(rest[0])) return null;
    const item = `${at}/${spec.item.xml}[${Number(rest.shift()) + 1}]`;
    if (rest.length === 0) return item;
    return spec.item.kind === 'object' ? walk(spec.item.fields, rest, item) : null;
  }
  return rest.length === 0 ? at : null;
}

/**
 * The element path of a JSON-form field (`payload.…`) in a package of `type` and `shape`, or
 * null when the field is no element of the header (attachments, the bus's own fields).
 */
export function edxmlFieldPath(type: EdocType, shape: EdxmlShape, field: string): string | null {
  const segments = segmentsOf(field);
  if (!segments || segments.length === 0) return null;
  const base = headerPath(shape);
  if (type === 'edoc.status') return walk(STATUS_FIELDS, segments, `${base}/Status`);
  const part = TOP_LEVEL[type][segments[0]];
  if (!part) return null;
  return walk(part.fields, segments.slice(1), `${base}/${part.element}`);
}
