// A test bus's keys: every service's private keys and the public keyset, generated fresh in the
// bus's data directory (never shared, never committed). Tests may hold any key, which is how
// they forge records as one service or another; services only ever open their own.
import { join } from 'node:path';
import { ensureKeys, openDecryptionKeyring, privateKeyFile } from '../../services/platform/key-files.js';
import { payloadOpener } from '../../services/platform/payload-keyring.js';
import { PlatformKeystore, type SigningKey } from '../../services/platform/keystore.js';
import { PublicKeyset } from '../../services/platform/public-keyset.js';
import type { KeyPurpose, KeyService } from '../../services/platform/key-purposes.js';

export interface TestKeys {
  keysDir: string;
  jwksFile: string;
  publicKeys: PublicKeyset;
  /** The active private key of one service's purpose, as that service would sign. */
  signing(service: KeyService, purpose: KeyPurpose): Promise<SigningKey>;
  /** A payload as `service` (runner or gateway) opens it: what a sealed record on the bus holds. */
  openPayload(service: 'runner' | 'gateway', sealed: unknown): unknown;
}

export async function createTestKeys(dataDir: string): Promise<TestKeys> {
  const keysDir = join(dataDir, 'keys');
  const jwksFile = join(keysDir, 'public', 'jwks.json');
  await ensureKeys(keysDir, jwksFile);
  const publicKeys = PublicKeyset.open(jwksFile);
  return {
    keysDir,
    jwksFile,
    publicKeys,
    // Read afresh each time: a test that rotated keys gets the new one.
    signing: async (service, purpose) => (await PlatformKeystore.open(privateKeyFile(keysDir, service, purpose), { watchIntervalMs: 0 })).signingKey,
    openPayload: (service, sealed) => {
      if (typeof sealed !== 'string') throw new Error(`expected a sealed payload (a compact JWE), got ${typeof sealed}`);
      return JSON.parse(payloadOpener(openDecryptionKeyring(keysDir, service)).open(sealed).toString('utf8'));
    },
  };
}
