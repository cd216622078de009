// Every refusal the document exchange answers a QLVB with is named in the vendor guide. A vendor
// that posted a replacement under the replaced DocumentId, a status packet to several members or
// a To list naming one agency twice, or reused an Idempotency-Key, got a code
// (REPLACEMENT_NEEDS_NEW_ID, ONE_RECIPIENT_ONLY, DUPLICATE_RECIPIENT, IDEMPOTENCY_KEY_REUSED) that
// docs/qlvb-vendor-guide.md did not mention, while its table is "Error codes you will meet".
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../services/platform/project-root.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Codes a source file raises: problem(409, 'X', …), new ProblemError(422, 'X', …). */
function raisedCodes(source: string): string[] {
  return [...source.matchAll(/(?:problem|ProblemError)\(\s*\d{3},\s*'([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1]);
}

t.test('the vendor guide names every code the document exchange refuses a package with', async (t) => {
  const guide = readFileSync(join(PROJECT_ROOT, 'docs', 'qlvb-vendor-guide.md'), 'utf8');
  // Named as a word (`413 ATTACHMENTS_TOO_LARGE` counts), or by a family such as `ATTACHMENT_*`.
  const families = [...guide.matchAll(/\b([A-Z][A-Z0-9]*_)\*/g)].map((m) => m[1]);
  const inGuide = (code: string) => new RegExp(`\\b${code}\\b`).test(guide) || families.some((f) => code.startsWith(f));

  const codes = new Set<string>();
  for (const file of sources(join(PROJECT_ROOT, 'services', 'document-exchange'))) {
    for (const code of raisedCodes(readFileSync(file, 'utf8'))) codes.add(code);
  }
  // The gateway's own refusals of a package's recipients, and of a reused key (the guide's
  // Idempotency-Key examples).
  for (const code of raisedCodes(readFileSync(join(PROJECT_ROOT, 'services', 'gateway', 'fan-out.ts'), 'utf8'))) codes.add(code);
  codes.add('IDEMPOTENCY_KEY_REUSED');
  t.ok(codes.has('REPLACEMENT_NEEDS_NEW_ID') && codes.has('DUPLICATE_RECIPIENT'), 'the scan finds the codes it is about');
  const missing = [...codes].filter((code) => !inGuide(code)).sort();
  t.same(missing, [], 'no code a vendor can meet is left out of the guide');
});
