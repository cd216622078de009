// The vendor guide said "any XML-DSig library that does enveloped signatures with exclusive
// canonicalisation works the same", and Python's signxml, which canonicalises with C14N 1.1
// unless told otherwise, got every package recorded `invalid`. The guide lists the algorithms
// the bus checks (§3d); this keeps that list equal to what the verifier (xml-crypto) takes.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';

const guide = readFileSync(join(import.meta.dirname, '..', 'docs', 'qlvb-vendor-guide.md'), 'utf8');

t.test('the guide lists exactly the XML-DSig algorithms the verifier takes', async (t) => {
  const marker = guide.indexOf('<!-- xml-dsig algorithms:');
  t.ok(marker >= 0, 'the guide has the algorithm table');
  const table = guide.slice(marker, guide.indexOf('\n\n', marker));
  const documented = new Set(table.match(/https?:\/\/www\.w3\.org\/[^`\s,]+/g) ?? []);
  const verifier = new SignedXml();
  const taken = new Set([...Object.keys(verifier.CanonicalizationAlgorithms), ...Object.keys(verifier.SignatureAlgorithms), ...Object.keys(verifier.HashAlgorithms)]);
  t.same([...documented].sort(), [...taken].sort());
  t.notOk(taken.has('http://www.w3.org/2006/12/xml-c14n11'), 'C14N 1.1, which the guide says is not taken, is not');
});
