// First-run development credentials: every seeded system gets its own key pair (and a client
// secret for legacy-style client_secret_basic), written to .lgsp/dev/clients/<clientId>.json;
// the registry the services load is the seed registry plus those public keys and secret
// hashes. Nothing secret is ever committed: the seeds hold no keys.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateSigningJwk, toPublicJwk } from '../platform/keystore.js';
import { hashSecret } from '../platform/secret-hash.js';
import type { RegistryData } from '../platform/registry.js';
import type { DevClientFile } from '../platform/bus-client.js';

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

export async function prepareDevRegistry(opts: {
  seeds: RegistryData;
  dataDir: string;
  tokenUrl: string;
  simulatorUrl?: string;
  /** Other placeholder bases (e.g. QLVB_SIMULATOR_PLACEHOLDER) → URL, in system and service endpoints. */
  endpointBases?: Record<string, string>;
}): Promise<PreparedRegistry> {
  const clientsDir = join(opts.dataDir, 'clients');
  mkdirSync(clientsDir, { recursive: true, mode: 0o700 });
  const registry: RegistryData = structuredClone(opts.seeds);
  const clients = new Map<string, DevClientFile>();
  for (const system of registry.systems) {
    const file = join(clientsDir, `${system.clientId}.json`);
    let client: DevClientFile;
    if (existsSync(file)) {
      client = JSON.parse(readFileSync(file, 'utf8')) as DevClientFile;
      client.tokenUrl = opts.tokenUrl;
    } else {
      const { kid, privateJwk } = await generateSigningJwk();
      client = { clientId: system.clientId, member: system.member, kid, privateJwk, tokenUrl: opts.tokenUrl, clientSecret: randomBytes(24).toString('base64url') };
    }
    writeFileSync(file, JSON.stringify(client, null, 2) + '\n', { mode: 0o600 });
    clients.set(system.clientId, client);
    system.auth = { jwks: { keys: [toPublicJwk(client.privateJwk)] }, secretHash: hashSecret(client.clientSecret) };
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
  writeFileSync(registryFile, JSON.stringify(registry, null, 2) + '\n');
  return { registryFile, clientsDir, clients };
}
