// A throwaway certificate authority for document signatures in development and tests: a CA and
// signer certificates made with the openssl command line (node:crypto cannot issue X.509
// certificates). `npm start` makes one under .lgsp/dev/edxml-ca/ at first run and trusts it;
// tests make their own in a temporary directory. Never committed, never for production: a
// deployment configures the CAs it trusts with LGSP_EDXML_TRUSTED_CAS.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SigningKey } from './xml-dsig.js';

export interface TestSigningCa {
  dir: string;
  /** PEM bundle to trust (LGSP_EDXML_TRUSTED_CAS). */
  caFile: string;
  /** Issues (or reuses) a signer certificate under this CA. */
  signer(name: string, subject: string): SigningKey & { certificateFile: string; privateKeyFile: string };
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** Subjects are written as OpenSSL's -subj ("/CN=…/O=…"); UTF-8 (Vietnamese names) is kept. */
export function ensureTestSigningCa(dir: string, caSubject = '/CN=LGSP demo document-signing CA (DEMO, not for production)/O=DEMO H49'): TestSigningCa {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  if (!existsSync(caFile)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-utf8', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', caSubject,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  }
  return {
    dir,
    caFile,
    signer(name, subject) {
      const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
      const certificateFile = join(dir, `${safe}.pem`);
      const privateKeyFile = join(dir, `${safe}.key`);
      if (!existsSync(certificateFile)) {
        openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-utf8', '-keyout', `${safe}.key`, '-out', `${safe}.csr`, '-subj', subject], dir);
        writeFileSync(join(dir, `${safe}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n');
        openssl(['x509', '-req', '-in', `${safe}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${safe}.pem`, '-days', '825', '-extfile', `${safe}.ext`], dir);
      }
      return { certificateFile, privateKeyFile, certificate: readFileSync(certificateFile, 'utf8'), privateKey: readFileSync(privateKeyFile, 'utf8') };
    },
  };
}
