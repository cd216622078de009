// A package as Python writes it: ElementTree's and lxml's tostring(..., xml_declaration=True)
// declare encoding='us-ascii' / 'ASCII' by default and write every character outside ASCII as a
// character reference. Its bytes are UTF-8 (ASCII is UTF-8's first 128 characters), yet it was
// refused 415 XML_UNSUPPORTED_ENCODING for the word in its declaration.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { XmlRefusal } from '../services/edxml/safe-xml.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');
const subject = /<edXML:Subject>([^<]*)<\/edXML:Subject>/.exec(sdkPackage)![1];

/** The package as Python's writers put it: ASCII declared, the rest as character references (comments, which cannot hold them, dropped). */
function asPythonWritesIt(declared: string): string {
  const body = sdkPackage.replace(/^<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const escaped = [...body].map((c) => (c.codePointAt(0)! > 0x7f ? `&#${c.codePointAt(0)};` : c)).join('');
  return `<?xml version='1.0' encoding='${declared}'?>${escaped}`;
}

t.test('a package declared ASCII and written in ASCII is read', async (t) => {
  t.match(subject, /[^\p{ASCII}]/u, 'the fixture\'s Subject has Vietnamese letters');
  for (const declared of ['ASCII', 'us-ascii', 'US-ASCII']) {
    const xml = asPythonWritesIt(declared);
    t.notMatch(xml, /[^\p{ASCII}]/u, 'every byte is ASCII');
    const decoded = decodeEdxml(Buffer.from(xml));
    t.equal((decoded.payload as { header: { subject: string } }).header.subject, subject, `encoding='${declared}': the Subject as written`);
  }
});

t.test('a package declared ASCII whose bytes are not is still refused', async (t) => {
  const xml = sdkPackage.replace(/^<\?xml[^>]*\?>/, "<?xml version='1.0' encoding='ASCII'?>");
  let refusal: unknown = null;
  try {
    decodeEdxml(Buffer.from(xml));
  } catch (err) {
    refusal = err;
  }
  t.type(refusal, XmlRefusal, 'refused');
  t.equal((refusal as XmlRefusal).code, 'XML_UNSUPPORTED_ENCODING');
  t.match((refusal as XmlRefusal).message, /names encoding "ASCII".*bytes are UTF-8 already/);
});
