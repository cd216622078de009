// Content-Digest (RFC 9530 §2) on an upload: a sender that says what the bytes' digest is gets
// them refused when they arrived otherwise (cut short, altered by a proxy, the wrong file), before
// anything is stored. The field is a Structured Field Dictionary (RFC 8941): `sha-256=:<base64>:`,
// `sha-512=:<base64>:`, several members allowed; a member's parameters are ignored.
//
// The bus checks sha-256 and sha-512 (RFC 9530's active algorithms) and ignores the others when one
// of those is there (§2: a recipient may ignore any digest). A field that names none of them is
// refused, not ignored: the sender asked for an integrity check the bus cannot make, and storing
// the bytes anyway would let it believe they were checked; the answer says which algorithms are
// taken (and Want-Content-Digest, §4, says it to a program).
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemError } from '../platform/problem.js';

/** Algorithms checked, with their digest length in bytes. */
const SUPPORTED: Record<string, number> = { 'sha-256': 32, 'sha-512': 64 };

/** RFC 9530 §4: what the bus prefers, as a Want-Content-Digest value. */
export const WANT_CONTENT_DIGEST = 'sha-256=10, sha-512=5';

const FIELD = 'headers.content-digest';
const KEY = /^[a-z*][a-z0-9_\-.*]*$/;
const BYTE_SEQUENCE = /^:([A-Za-z0-9+/]*={0,2}):$/;

function invalid(detail: string): ProblemError {
  return new ProblemError(400, 'CONTENT_DIGEST_INVALID', 'Content-Digest not readable', `Content-Digest ${detail} (RFC 9530: e.g. sha-256=:<base64 of the SHA-256 of the body>:); nothing was stored`, { errors: [{ field: FIELD, message: detail }] });
}

/** The header's members (key → value, parameters dropped); throws CONTENT_DIGEST_INVALID when it is no dictionary. */
function members(header: string): Map<string, string> {
  const found = new Map<string, string>();
  // Byte sequences hold no comma, nor do tokens: a comma always separates members.
  for (const raw of header.split(',')) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    const eq = member.indexOf('=');
    const key = eq < 0 ? member.split(';')[0] : member.slice(0, eq);
    if (!KEY.test(key)) throw invalid(`is not a dictionary of algorithm=:digest: members (a member reads "${member.slice(0, 40)}")`);
    const value = eq < 0 ? '' : member.slice(eq + 1).split(';')[0];
    found.set(key, value); // RFC 8941: a key given twice, the last one counts
  }
  return found;
}

/**
 * Null when `header` is absent, or when every sha-256 and sha-512 digest it carries is the body's;
 * else the problem to answer (400): CONTENT_DIGEST_INVALID (not a dictionary, a digest not a
 * byte sequence of the algorithm's length), CONTENT_DIGEST_UNSUPPORTED (no algorithm the bus
 * checks), CONTENT_DIGEST_MISMATCH (a digest that is not the body's).
 */
export function contentDigestProblem(header: string | string[] | undefined, body: Buffer): ProblemError | null {
  if (header === undefined) return null;
  try {
    return checkDigests(header, body);
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
}

function checkDigests(header: string | string[], body: Buffer): ProblemError | null {
  const text = Array.isArray(header) ? header.join(', ') : header;
  const digests = members(text);
  const checked = [...digests].filter(([algorithm]) => Object.hasOwn(SUPPORTED, algorithm));
  if (checked.length === 0) {
    const named = [...digests.keys()].map((k) => k.slice(0, 20)).join(', ') || 'no algorithm';
    return new ProblemError(400, 'CONTENT_DIGEST_UNSUPPORTED', 'Content-Digest algorithm not supported', `Content-Digest names ${named}; the bus checks sha-256 and sha-512 only: send one of them (or no Content-Digest); nothing was stored`, {
      errors: [{ field: FIELD, message: 'names no algorithm the bus checks (sha-256, sha-512)' }],
    });
  }
  for (const [algorithm, value] of checked) {
    const b64 = BYTE_SEQUENCE.exec(value)?.[1];
    const claimed = b64 === undefined ? null : Buffer.from(b64, 'base64');
    if (!claimed || claimed.length !== SUPPORTED[algorithm]) throw invalid(`${algorithm} is not a byte sequence of ${SUPPORTED[algorithm]} bytes (:<base64>:)`);
    const actual = createHash(algorithm.replace('-', '')).update(body).digest();
    if (!timingSafeEqual(claimed, actual)) {
      return new ProblemError(400, 'CONTENT_DIGEST_MISMATCH', 'Content-Digest mismatch', `The body's ${algorithm} is ${algorithm}=:${actual.toString('base64')}:, not the Content-Digest sent: the bytes were changed or cut on the way, or another file was sent; nothing was stored`, {
        errors: [{ field: FIELD, message: `${algorithm} is not the digest of the body` }],
      });
    }
  }
  return null;
}
