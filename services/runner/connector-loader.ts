// Loads connectors by their manifests (connectors/<name>/connector.json, or a connector
// package's): imports the entry module, validates the connector's configuration against its
// declared schema and resolves its secrets. A broken connector fails its own load with an error
// that says which step failed and why; the caller keeps the others running.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConnectorDefinition, ConnectorMetrics, ConnectorSecrets } from '@lgsp/sdk';
import { missingSecrets, scrubError, secretEnvName, secretsOf } from '@lgsp/sdk/secrets';
import { DISCARDING_METRICS } from '@lgsp/sdk/metrics';
import { validateConnectorConfig } from '@lgsp/sdk/config-validation';
import type { ConnectorManifest } from '../platform/schema-catalogue.js';
import { resolveSecretValues } from './connector-secrets.js';
import { provideSdkToConnectors } from './sdk-resolution.js';

export interface LoadedConnector {
  manifest: ConnectorManifest;
  definition: ConnectorDefinition<Record<string, unknown>>;
  config: Record<string, unknown>;
  /** ctx.secrets / ctx.metrics (absent when loaded without them: the runtime supplies empty ones). */
  secrets?: ConnectorSecrets;
  metrics?: ConnectorMetrics;
}

/** A load failure after the module was imported still tells what the connector declares (for operators). */
export class ConnectorLoadError extends Error {
  override name = 'ConnectorLoadError';
  readonly definition?: ConnectorDefinition<Record<string, unknown>>;
  /** Set when the only thing wrong is secrets absent from the environment given (names of the variables to set). */
  readonly missingSecretVariables?: string[];
  /** The configuration given does not satisfy the connector's configSchema. */
  readonly configurationInvalid: boolean;

  constructor(
    message: string,
    what: {
      definition?: ConnectorDefinition<Record<string, unknown>>;
      missingSecretVariables?: string[];
      configurationInvalid?: boolean;
    } = {},
  ) {
    super(message);
    this.definition = what.definition;
    this.missingSecretVariables = what.missingSecretVariables;
    this.configurationInvalid = what.configurationInvalid ?? false;
  }
}

export interface LoadOptions {
  /** Where secrets are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Secret values given directly (tests), by secret name. */
  secrets?: Record<string, string>;
  metrics?: ConnectorMetrics;
}

// Run from .ts sources (a test under a bare `npx tap` after a change not yet built, see
// test/helpers/test-loader.mjs), the runtime loads connectors the same way, so both share one
// copy of the SDK.
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

export function entryPath(root: string, entry: string): string {
  if (isAbsolute(entry)) return entry; // a package entry naming its file (e.g. ./dist/index.js)
  return RUNNING_FROM_SOURCE ? join(root, `${entry}.ts`) : join(root, 'dist', `${entry}.js`);
}

// A module whose evaluation threw stays failed in Node's module cache: after such a failure a
// restart imports it under a fresh URL, so a fixed file is picked up without restarting the runner.
const failedImports = new Map<string, number>();

// A module that imported fine stays loaded too, under the same URL: a restart after `npm run
// build` runs the code imported first. Importing it again under a fresh URL would not help, as
// the modules it imports would stay the old ones. So the file's modification time at its first
// good import is kept, and the runner's status says when the file has changed since (only a
// restart of the runner loads the new build) instead of leaving old code running unannounced.
const importedVersions = new Map<string, number>();

const modifiedAt = (file: string): number | undefined => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
};

/** Why the code a connector runs is not its entry file's current one, or null when it is (or was never imported). */
export function entryChangedSinceImport(file: string): string | null {
  const imported = importedVersions.get(file);
  const now = modifiedAt(file);
  if (imported === undefined || now === undefined || now <= imported) return null;
  return `${file} changed after the runner imported it: the connector still runs the code imported then (a connector restart does not import a module again); restart the runner to run the new build`;
}

async function importEntry(file: string): Promise<unknown> {
  provideSdkToConnectors();
  const failures = failedImports.get(file) ?? 0;
  const url = pathToFileURL(file).href + (failures > 0 ? `?reload=${failures}` : '');
  const version = modifiedAt(file);
  try {
    const mod = await import(url);
    if (!importedVersions.has(file) && version !== undefined) importedVersions.set(file, version);
    return mod;
  } catch (err) {
    failedImports.set(file, failures + 1);
    throw err;
  }
}

/** Per-connector configuration from the file LGSP_CONNECTORS_CONFIG names ({ "<connector>": {…} }), if any. */
export function connectorsConfigFile(file: string | undefined): Record<string, unknown> | undefined {
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot read LGSP_CONNECTORS_CONFIG ${file}: ${(err as Error).message}`);
  }
}

/**
 * The configuration file read now (so a broken file stops the runner at start, as before) and
 * again at each connector start: POST /v1/connectors/<name>/restart re-reads the configuration.
 */
export function connectorsConfigReader(file: string | undefined): () => Record<string, unknown> | undefined {
  connectorsConfigFile(file);
  return () => connectorsConfigFile(file);
}

export async function loadConnector(root: string, manifest: ConnectorManifest, rawConfig: unknown = {}, opts: LoadOptions = {}): Promise<LoadedConnector> {
  const name = manifest.name;
  const file = entryPath(manifest.baseDir ?? root, manifest.entry);
  if (!existsSync(file)) throw new Error(`connector ${name}: entry ${file} not found (was it built? npm run build)`);
  let mod: { default?: ConnectorDefinition<Record<string, unknown>> };
  try {
    mod = (await importEntry(file)) as typeof mod;
  } catch (err) {
    throw new Error(`connector ${name}: importing ${manifest.entry} failed: ${(err as Error)?.message ?? String(err)}`);
  }
  const definition = mod.default;
  if (!definition || typeof definition.handle !== 'function') {
    throw new Error(`connector ${name}: ${manifest.entry} must export default defineConnector({...})`);
  }
  if (definition.name !== name) {
    throw new Error(`connector ${name}: module declares name "${definition.name}"`);
  }
  let config: Record<string, unknown>;
  try {
    config = validateConnectorConfig<Record<string, unknown>>(definition, rawConfig);
  } catch (err) {
    throw new ConnectorLoadError((err as Error).message, { definition, configurationInvalid: true });
  }
  let values: Map<string, string>;
  try {
    values = resolveSecretValues(name, definition.secrets, opts.env ?? process.env, opts.secrets);
  } catch (err) {
    throw new ConnectorLoadError(`connector ${name}: ${(err as Error).message}`, { definition });
  }
  const missing = missingSecrets(definition.secrets, values);
  if (missing.length > 0) {
    throw new ConnectorLoadError(
      `connector ${name}: missing secret${missing.length > 1 ? 's' : ''}: ${missing.map((s) => `${s} (set ${secretEnvName(name, s)} or ${secretEnvName(name, s)}_FILE)`).join(', ')}`,
      { definition, missingSecretVariables: missing.map((s) => secretEnvName(name, s)) },
    );
  }
  return {
    manifest,
    definition: values.size === 0 ? definition : withSecretsScrubbed(definition, values),
    config,
    secrets: secretsOf(name, definition.secrets, values),
    metrics: opts.metrics ?? DISCARDING_METRICS,
  };
}

/** The same connector, with secret values scrubbed from whatever its hooks throw. */
function withSecretsScrubbed(definition: ConnectorDefinition<Record<string, unknown>>, values: ReadonlyMap<string, string>): ConnectorDefinition<Record<string, unknown>> {
  const guard = <A extends unknown[], R>(fn: ((...args: A) => Promise<R>) | undefined) =>
    fn && (async (...args: A): Promise<R> => {
      try {
        return await fn.apply(definition, args);
      } catch (err) {
        throw scrubError(err, values);
      }
    });
  // health() too: what it throws is shown in GET /v1/connectors/<name>/status, which observers read.
  return { ...definition, start: guard(definition.start), stop: guard(definition.stop), health: guard(definition.health), handle: guard(definition.handle)! };
}
