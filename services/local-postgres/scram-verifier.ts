// A password as PostgreSQL stores it (SCRAM-SHA-256, RFC 5802/7677), computed here so that
// `ALTER ROLE … PASSWORD` carries the verifier, never the password: a statement's text can reach
// the server's log (log_statement, an error's STATEMENT line), pg_stat_statements and
// pg_stat_activity, and there a verifier gives nothing away — it is what pg_authid keeps anyway.
// PostgreSQL stores a string in this form as it is (psql's \password and libpq's
// PQencryptPasswordConn do the same thing client side).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default (scram_iterations, fixed at 4096 before version 16). */
const ITERATIONS = 4096;
const SALT_BYTES = 16;

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 parts. */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = ITERATIONS): string {
  // The password as UTF-8. PostgreSQL SASLprep-normalises it first; the generated passwords of
  // this project are ASCII letters and digits, which SASLprep leaves as they are.
  if (!/^[\x20-\x7e]+$/.test(password)) throw new RangeError('only printable ASCII passwords are supported here (SASLprep is not applied)');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
