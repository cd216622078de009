// The edXML vocabulary (QCVN 102:2016/BTTTT, amended 2022) and its JSON names, declared once:
// the codec reads XML into JSON and writes JSON back into XML from these tables, so both
// directions cover exactly the same fields and a field added here round-trips by construction.
// JSON names are the element names in lowerCamelCase; repeated elements become arrays, and a
// wrapper holding a repeated element (ToPlaces/Place) becomes the array itself.

export const EDXML_NS = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';
export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const SOAP_NS = ['http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'];
export const XLINK_NS = 'http://www.w3.org/1999/xlink';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

interface Common {
  /** Local element name in the edXML namespace. */
  xml: string;
  /** Property name in the JSON form. */
  json: string;
  /** The element may repeat; the JSON value is an array. */
  repeat?: boolean;
}

export type FieldSpec =
  | (Common & { kind: 'text' | 'int' })
  | (Common & { kind: 'object'; fields: FieldSpec[] })
  /** A wrapper element whose repeated `item` children become the JSON array. */
  | (Common & { kind: 'wrapped'; item: FieldSpec });

const text = (xml: string, extra: Partial<Common> = {}): FieldSpec => ({ xml, json: lowerFirst(xml), kind: 'text', ...extra });
const int = (xml: string, extra: Partial<Common> = {}): FieldSpec => ({ xml, json: lowerFirst(xml), kind: 'int', ...extra });
const object = (xml: string, fields: FieldSpec[], extra: Partial<Common> = {}): FieldSpec => ({ xml, json: lowerFirst(xml), kind: 'object', fields, ...extra });
const wrapped = (xml: string, item: FieldSpec, json = lowerFirst(xml)): FieldSpec => ({ xml, json, kind: 'wrapped', item });

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export const ORGANIZATION_FIELDS: FieldSpec[] = [
  text('OrganId'),
  text('OrganizationInCharge'),
  text('OrganName'),
  text('OrganAdd'),
  text('Email'),
  text('Telephone'),
  text('Fax'),
  text('Website'),
];

export const STAFF_INFO_FIELDS: FieldSpec[] = [text('Department'), text('Staff'), text('Mobile'), text('Email')];

const RESPONSE_FOR_FIELDS: FieldSpec[] = [text('OrganId'), text('Code'), text('PromulgationDate'), text('DocumentId')];

/** edXML:MessageHeader → payload.header of edoc.send. */
export const MESSAGE_HEADER_FIELDS: FieldSpec[] = [
  object('From', ORGANIZATION_FIELDS),
  object('To', ORGANIZATION_FIELDS, { repeat: true }),
  text('DocumentId'),
  object('Code', [text('CodeNumber'), text('CodeNotation')]),
  object('PromulgationInfo', [text('Place'), text('PromulgationDate')]),
  object('DocumentType', [int('Type'), text('TypeName')]),
  text('Subject'),
  text('Content'),
  object('SignerInfo', [text('Competence'), text('Position'), text('FullName')]),
  text('DueDate'),
  wrapped('ToPlaces', text('Place')),
  object('OtherInfo', [
    int('Priority'),
    text('SphereOfPromulgation'),
    text('TyperNotation'),
    int('PromulgationAmount'),
    int('PageAmount'),
    wrapped('Appendixes', text('Appendix')),
  ]),
  object('ResponseFor', RESPONSE_FOR_FIELDS, { repeat: true }),
  int('SteeringType'),
];

/** edXML:TraceHeaderList → payload.traceHeaderList of edoc.send. */
export const TRACE_HEADER_LIST_FIELDS: FieldSpec[] = [
  object('TraceHeader', [text('OrganId'), text('Timestamp')], { repeat: true, json: 'traceHeaders' }),
  object('Bussiness', [
    int('BussinessDocType'),
    text('BussinessDocReason'),
    text('DocumentId'),
    int('Paper'),
    object('StaffInfo', STAFF_INFO_FIELDS),
    object('BussinessDocumentInfo', [
      int('DocumentInfo'),
      int('DocumentReceiver'),
      wrapped('ReceiverList', object('Receiver', [int('ReceiverType'), text('OrganId')])),
    ]),
    wrapped('ReplacementInfoList', object('ReplacementInfo', [text('DocumentId'), wrapped('OrganIdList', text('OrganId'))])),
  ]),
];

/** edXML:Status → the edoc.status payload. */
export const STATUS_FIELDS: FieldSpec[] = [
  object('ResponseFor', RESPONSE_FOR_FIELDS),
  object('From', ORGANIZATION_FIELDS),
  text('StatusCode'),
  text('Description'),
  text('Timestamp'),
  object('StaffInfo', STAFF_INFO_FIELDS),
];

/** edXML:edXMLManifest/edXML:Reference: one per attachment. */
export const REFERENCE_FIELDS: FieldSpec[] = [text('ContentId'), text('ContentType'), text('Description'), text('AttachmentName')];

/**
 * edXML:AttachmentEncoded/edXML:Attachment: the attachment bytes, base64, matched by ContentId.
 * The bytes are in Value, or (as the QCVN 102 SDK samples write it) in ContentTransferEncoded
 * itself when there is no Value.
 */
export const ENCODED_ATTACHMENT_FIELDS: FieldSpec[] = [text('ContentId'), text('AttachmentName'), text('ContentType'), text('Description'), text('ContentTransferEncoded'), text('Value')];
