// What the gateway says about an edXML package whose encoding is wrong, and a character that was
// taken for a wrong encoding. A package carrying U+FFFD (valid UTF-8, EF BF BD: text converted
// lossily somewhere before it reached the QLVB) was refused as "not valid UTF-8"; a package in
// Windows-1258 or UTF-16 was told only "not valid UTF-8", with no place in it; one whose bytes
// were UTF-8 but whose declaration said utf-16 (.NET's XmlWriter over a StringWriter) was told
// "send UTF-8", which it did.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEdxml } from '../services/edxml/edxml-codec.js';
import { XmlRefusal } from '../services/edxml/safe-xml.js';
import { startTestBus } from './helpers/test-bus.js';

const sdkPackage = readFileSync(join(import.meta.dirname, 'fixtures', 'edxml', 'corpus', 'sdk-document-no-attachments.xml'), 'utf8');
const subject = /<edXML:Subject>([^<]*)<\/edXML:Subject>/;

const refusal = (t: Test, bytes: Buffer): string => {
  try {
    decodeEdxml(bytes);
  } catch (err) {
    t.type(err, XmlRefusal);
    t.equal((err as XmlRefusal).code, 'XML_UNSUPPORTED_ENCODING');
    return (err as Error).message;
  }
  t.fail('accepted');
  return '';
};

t.test('an encoding refusal says what is wrong and where', async (t) => {
  t.match(sdkPackage, subject, 'the fixture has a Subject');
  t.match(sdkPackage, /^<\?xml version="1.0" encoding="utf-8"\?>/, 'and declares utf-8');

  const replacementCharacter = decodeEdxml(Buffer.from(sdkPackage.replace(subject, '<edXML:Subject>Về vi\uFFFDc thử nghiệm</edXML:Subject>')));
  t.match(replacementCharacter.payload, { header: { subject: 'Về vi\uFFFDc thử nghiệm' } }, 'U+FFFD is a character like any other');

  // "Về" in Windows-1258: V, 0xEA (ê), 0xD2 (combining grave).
  const windows1258 = Buffer.from(sdkPackage.replace(subject, '<edXML:Subject>@@</edXML:Subject>'));
  const at = windows1258.indexOf('@@');
  windows1258[at] = 0xea;
  windows1258[at + 1] = 0xd2;
  const lineOfSubject = sdkPackage.slice(0, sdkPackage.search(subject)).split('\n').length;
  const column = at - windows1258.lastIndexOf(0x0a, at);
  t.match(refusal(t, windows1258), new RegExp(`not valid UTF-8: byte 0xEA at line ${lineOfSubject}, column ${column} \\(byte ${at + 1}\\) is not UTF-8.*Windows-1258`));

  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(sdkPackage.replace('encoding="utf-8"', 'encoding="utf-16"'), 'utf16le')]);
  t.match(refusal(t, utf16), /is UTF-16, not UTF-8/);
  t.match(refusal(t, Buffer.from(sdkPackage, 'utf16le')), /is UTF-16, not UTF-8/, 'without its byte order mark too');

  const declaredUtf16 = refusal(t, Buffer.from(sdkPackage.replace('encoding="utf-8"', 'encoding="utf-16"')));
  t.match(declaredUtf16, /declaration names encoding "utf-16", but edXML packages are UTF-8: declare encoding="UTF-8" \(or leave the encoding out\); this package's bytes are UTF-8 already/);
});

t.test('the gateway takes a package carrying U+FFFD', async (t) => {
  const bus = await startTestBus(t, { name: 'edxml-encoding', runner: false });
  const res = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await bus.client('vp-ubnd-qlvb').accessToken()}`, 'content-type': 'application/xml' },
    body: sdkPackage.replace(subject, '<edXML:Subject>Về vi\uFFFDc thử nghiệm</edXML:Subject>'),
  });
  t.equal(res.status, 202, JSON.stringify(await res.clone().json()));
});
