// edXML for connectors (QCVN 102:2016 document packages): the same codec the gateway uses to
// read XML submissions, offered through the SDK so connectors can write the edXML form of an
// edoc.send / edoc.status payload for systems that take XML.
export { encodeEdxml, decodeEdxml, EdxmlError, DEFAULT_EDXML_SHAPE, type EdocType, type EdxmlShape, type JsonAttachment } from '../../services/edxml/edxml-codec.js';
