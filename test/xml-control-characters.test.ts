// A raw control character (U+000B, a vertical tab pasted from a word processor) is not allowed
// in XML 1.0, yet the parser took it and the package was refused later as
// 400 EDXML_NOT_REPRESENTABLE, while the vendor guide (§9) promises XML_MALFORMED for XML that is
// not well-formed. The pre-parse scan now refuses it as malformed, saying which character and
// where (the gateway answers an XmlRefusal with its code, as for every XML_* refusal).
import t from 'tap';
import { parseUntrustedXml, XmlRefusal } from '../services/edxml/safe-xml.js';

const refusal = (xml: string) => {
  try {
    parseUntrustedXml(xml);
    return null;
  } catch (err) {
    return err instanceof XmlRefusal ? err : null;
  }
};

t.test('characters XML does not allow are refused as malformed, with where', async (t) => {
  const vt = refusal('<a>\n  <b>Quyết\u000Bđịnh</b>\n</a>');
  t.equal(vt?.code, 'XML_MALFORMED');
  t.match(vt?.message, /the character U\+000B at line 2, column 11 is not allowed in XML/);
  t.equal(refusal('<a>x\u0000</a>')?.code, 'XML_MALFORMED', 'NUL');
  t.equal(refusal('<a b="\u001F"/>')?.code, 'XML_MALFORMED', 'in an attribute value');
  t.equal(refusal('<a><![CDATA[\u0007]]></a>')?.code, 'XML_MALFORMED', 'in CDATA too');
  t.equal(refusal('<a>\uFFFF</a>')?.code, 'XML_MALFORMED', 'U+FFFF');
  t.equal(refusal('<a>\ttab\r\nand line ends</a>'), null, 'tab, CR and LF are XML characters');
});
