// First-run development credentials: every seeded system gets its own key pair, written to
// .lgsp/dev/clients/<clientId>.json; a client secret (client_secret_basic) only where a secret
// is how the system signs in: operator and observer systems (the console's login form) and the
// legacy systems the seeds mark `auth.devSecret`. Any other system authenticates with its key
// alone, as production registries should have it: a secret nobody uses is one more to leak.
// The registry the services load is the seed registry plus those public keys and secret
// hashes. Nothing secret is ever committed: the seeds hold no keys.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateSigningJwk, toPublicJwk } from '../platform/keystore.js';
import { hashSecret } from '../platform/secret-hash.js';
import type { RegistryData } from '../platform/registry.js';
import type { DevClientFile } from '../platform/bus-client.js';
import { privateDirectory, writePrivateFile } from '../platform/private-file.js';

export type { DevClientFile };

/** Seed endpoints under this base point at the local agency simulator. */
export const SIMULATOR_PLACEHOLDER = 'http://agency-simulator.invalid';
/** Seed endpoints under this base point at the local QLVB simulator (document exchange). */
export const QLVB_SIMULATOR_PLACEHOLDER = 'http://qlvb-simulator.invalid';


export interface PreparedRegistry {
  registryFile: string;
  clientsDir: string;
  clients: Map<string, DevClientFile>;
}

/** Whether the dev stack issues this system a client secret (see the head of this file). */
function takesSecret(system: RegistryData['systems'][number]): boolean {
  return system.auth.devSecret === true || (system.roles ?? []).some((role) => role === 'operator' || role === 'observer');
}

export async function prepareDevRegistry(opts: {
  seeds: RegistryData;
  dataDir: string;
  tokenUrl: string;
  simulatorUrl?: string;
  /** Other placeholder bases (e.g. QLVB_SIMULATOR_PLACEHOLDER) → URL, in system and service endpoints. */
  endpointBases?: Record<string, string>;
}): Promise<PreparedRegistry> {
  const clientsDir = join(opts.dataDir, 'clients');
  privateDirectory(clientsDir);
  const registry: RegistryData = structuredClone(opts.seeds);
  const clients = new Map<string, DevClientFile>();
  for (const system of registry.systems) {
    const file = join(clientsDir, `${system.clientId}.json`);
    // The key pair is kept across restarts; roles and token URL are the registry's and this
    // stack's word each start (the roles as the system's tokens will carry them).
    const key = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DevClientFile) : await generateSigningJwk();
    const client: DevClientFile = { clientId: system.clientId, member: system.member, kid: key.kid, privateJwk: key.privateJwk, tokenUrl: opts.tokenUrl, roles: system.roles ?? ['agency'] };
    // A secret is kept where one is due and dropped (no longer accepted) where none is.
    if (takesSecret(system)) client.clientSecret = ('clientSecret' in key && key.clientSecret) || randomBytes(24).toString('base64url');
    writePrivateFile(file, JSON.stringify(client, null, 2) + '\n');
    clients.set(system.clientId, client);
    system.auth = { jwks: { keys: [toPublicJwk(client.privateJwk)] }, ...(client.clientSecret ? { secretHash: hashSecret(client.clientSecret) } : {}) };
    if (system.endpoint?.startsWith(SIMULATOR_PLACEHOLDER)) {
      if (!opts.simulatorUrl) delete system.endpoint;
      else system.endpoint = opts.simulatorUrl + system.endpoint.slice(SIMULATOR_PLACEHOLDER.length);
    }
  }
  for (const [placeholder, url] of Object.entries(opts.endpointBases ?? {})) {
    for (const holder of [...registry.systems, ...registry.services]) {
      if (holder.endpoint?.startsWith(placeholder)) holder.endpoint = url + holder.endpoint.slice(placeholder.length);
    }
  }
  const registryFile = join(opts.dataDir, 'registry.json');
  // Its secret hashes are for the services to check logins with, not for every local user to guess at.
  writePrivateFile(registryFile, JSON.stringify(registry, null, 2) + '\n');
  return { registryFile, clientsDir, clients };
}
