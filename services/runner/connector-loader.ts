// Loads connectors by their manifests (connectors/<name>/connector.json): imports the entry
// module and validates the connector's configuration against its declared schema. A broken
// connector fails its own load with a clear error; the caller keeps the others running.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import type { ConnectorDefinition } from '../../connectors/sdk/index.js';
import type { ConnectorManifest } from '../platform/schema-catalogue.js';

export interface LoadedConnector {
  manifest: ConnectorManifest;
  definition: ConnectorDefinition<Record<string, unknown>>;
  config: Record<string, unknown>;
}

// Under the TypeScript test loader the runtime runs from .ts sources; load connectors the same
// way so both share one copy of the SDK.
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

export function entryPath(root: string, entry: string): string {
  return RUNNING_FROM_SOURCE ? join(root, `${entry}.ts`) : join(root, 'dist', `${entry}.js`);
}

export async function loadConnector(root: string, manifest: ConnectorManifest, rawConfig: unknown = {}): Promise<LoadedConnector> {
  const file = entryPath(root, manifest.entry);
  if (!existsSync(file)) throw new Error(`connector ${manifest.name}: entry ${file} not found (was it built?)`);
  const mod = (await import(pathToFileURL(file).href)) as { default?: ConnectorDefinition<Record<string, unknown>> };
  const definition = mod.default;
  if (!definition || typeof definition.handle !== 'function') {
    throw new Error(`connector ${manifest.name}: ${manifest.entry} must export default defineConnector({...})`);
  }
  if (definition.name !== manifest.name) {
    throw new Error(`connector ${manifest.name}: module declares name "${definition.name}"`);
  }
  const config = structuredClone((rawConfig ?? {}) as Record<string, unknown>);
  if (definition.configSchema) {
    const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(definition.configSchema);
    if (!validate(config)) {
      const details = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
      throw new Error(`connector ${manifest.name}: invalid configuration: ${details}`);
    }
  }
  return { manifest, definition, config };
}
