// `<?…?>` and `<!DOCTYPE …>` inside a comment or a CDATA section are text, not markup. The bus
// looked for processing instructions and DTDs in the raw body and refused legal packages: a
// Subject quoting a configuration file in CDATA ("<?xml … ?>"), a QLVB's export comment naming
// its version the way it writes its headers. Real ones are still refused.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { blankCommentsAndCdata, XmlRefusal } from '../services/edxml/safe-xml.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');
const subject = /<edXML:Subject>[^<]*<\/edXML:Subject>/;

t.test('markup-like text in comments and CDATA is text', async (t) => {
  t.match(sdkPackage, subject, 'the fixture has a Subject');
  const quoted = decodeEdxml(Buffer.from(sdkPackage.replace(subject, '<!-- xuất từ <?QLVB v2?>, <!DOCTYPE không dùng> --><edXML:Subject><![CDATA[Hướng dẫn cấu hình <?xml version="1.0"?> và <!DOCTYPE html>]]></edXML:Subject>')));
  t.equal((quoted.payload as { header: { subject: string } }).header.subject, 'Hướng dẫn cấu hình <?xml version="1.0"?> và <!DOCTYPE html>');

  const refused = (xml: string) => {
    try {
      decodeEdxml(Buffer.from(xml));
    } catch (err) {
      return err instanceof XmlRefusal ? err.code : `not an XmlRefusal: ${(err as Error).message}`;
    }
    return 'accepted';
  };
  t.equal(refused(sdkPackage.replace(subject, '<?QLVB v2?>$&')), 'XML_FORBIDDEN_CONSTRUCT', 'a processing instruction in the markup is still refused');
  t.equal(refused(sdkPackage.replace(subject, '<![CDATA[x]]><?QLVB v2?>$&')), 'XML_FORBIDDEN_CONSTRUCT', 'also after a CDATA section');
  t.equal(refused(sdkPackage.replace(/^(<\?xml[^>]*>)/, '$1<!DOCTYPE edXML [<!ENTITY x "y">]>')), 'XML_FORBIDDEN_CONSTRUCT', 'a DTD is still refused');
  t.not(refused(sdkPackage.replace(subject, '<!-- <?never closed ?>')), 'accepted', 'an unterminated comment blanks nothing and is refused');
});

t.test('blankCommentsAndCdata keeps offsets and stays linear', async (t) => {
  t.equal(blankCommentsAndCdata('<a><!--<?x?>--><![CDATA[<!DOCTYPE]]><?y?></a>'), '<a><!--     --><![CDATA[         ]]><?y?></a>');
  t.equal(blankCommentsAndCdata('<a><!-- open'), '<a><!-- open', 'unterminated: unchanged');
  // CPU time, not wall time: on a loaded machine a linear pass waits for a core too. A
  // quadratic one would take minutes of CPU at these sizes.
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  const hostile = '<!--'.repeat(2_000_000);
  const started = process.cpuUsage();
  t.equal(blankCommentsAndCdata(hostile).length, hostile.length);
  t.ok(cpuMs(started) < 2000, 'two million unterminated comments in well under 2 s of CPU');
  const manyComments = '<a>' + '<!---->'.repeat(1_000_000) + '</a>';
  const again = process.cpuUsage();
  t.equal(blankCommentsAndCdata(manyComments).length, manyComments.length);
  t.ok(cpuMs(again) < 2000, 'a million comments and no CDATA in well under 2 s of CPU');
});
