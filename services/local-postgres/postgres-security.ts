// TLS and password material of the local PostgreSQL, made at its first start and kept with its
// data (never in git), the way broker-security.ts does it for the local Kafka: a CA of its own,
// the server's certificate (signed by that CA, valid for 127.0.0.1 and localhost; the CA's
// private key is deleted once it has signed), and one password per login under
// `security/credentials/<name>.json` ({ username, password }): `owner` is the superuser that
// owns the schema and applies migrations; the stack adds one per service role.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openssl } from '../local-processes/openssl.js';

export interface DatabaseLogin {
  username: string;
  password: string;
}

export interface PostgresTlsFiles {
  /** PEM of the CA that signed the server certificate: sslrootcert for clients. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

export function securityDir(dataDir: string): string {
  return path.join(dataDir, 'security');
}

export function credentialsDir(dataDir: string): string {
  return path.join(securityDir(dataDir), 'credentials');
}

/** The server's TLS files under `<dataDir>/security`, made now if they do not exist yet. */
export async function ensureServerTls(dataDir: string): Promise<PostgresTlsFiles & { created: boolean }> {
  const dir = securityDir(dataDir);
  const files = { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'server.crt'), keyFile: path.join(dir, 'server.key') };
  // The key is written last (renamed into place): its presence means the rest is complete.
  if (existsSync(files.keyFile)) return { ...files, created: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/CN=LGSP local PostgreSQL CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', ...ec, '-keyout', 'server.key.new', '-out', 'server.csr', '-subj', '/CN=lgsp-postgres'], dir);
  await writeFile(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '825', '-extfile', 'server.ext'], dir);
  // Nothing needs to sign again: a new certificate means a new security dir.
  for (const f of ['ca.key', 'server.csr', 'server.ext', 'ca.srl']) await rm(path.join(dir, f), { force: true });
  // PostgreSQL refuses a key others can read.
  await chmod(path.join(dir, 'server.key.new'), 0o600);
  await rename(path.join(dir, 'server.key.new'), files.keyFile);
  return { ...files, created: true };
}

/** A login's stored password, or undefined when it has none yet. */
export async function readLogin(dataDir: string, name: string): Promise<DatabaseLogin | undefined> {
  const text = await readFile(path.join(credentialsDir(dataDir), `${name}.json`), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as Partial<DatabaseLogin>;
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') throw new Error(`${name}.json in ${credentialsDir(dataDir)} must hold { "username", "password" }`);
  return { username: parsed.username, password: parsed.password };
}

/** A new random password for `username` (hex: nothing to escape in a URL or in SQL). */
export function newLogin(username: string): DatabaseLogin {
  return { username, password: randomBytes(24).toString('hex') };
}

export async function writeLogin(dataDir: string, name: string, login: DatabaseLogin): Promise<void> {
  const dir = credentialsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(securityDir(dataDir), 0o700);
  await writeFile(path.join(dir, `${name}.json`), JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
}
