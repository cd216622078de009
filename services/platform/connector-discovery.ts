// Finds connector manifests (connector.json) without importing any connector code: in a
// connectors directory (<dir>/<name>/connector.json; the project's own connectors/ and any
// LGSP_CONNECTOR_DIRS) and in npm packages named in LGSP_CONNECTOR_PACKAGES (a package, or a
// package directory, with connector.json at its root). A manifest that cannot be found or
// parsed is reported with the reason instead of thrown, so one broken connector never stops
// the gateway or the runner from starting with the others.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { byCodeUnits } from './code-unit-order.js';

export const MANIFEST_FILE = 'connector.json';

/** Where a manifest was found, which decides how the paths inside it resolve. */
export interface ManifestOrigin {
  /** Paths not starting with ./ or ../ resolve against this (the project root, or the package root). */
  baseDir: string;
  /** The folder holding connector.json: ./ and ../ paths resolve against it. */
  manifestDir: string;
  /** Human-readable origin for messages: a directory or `package <name>`. */
  source: string;
}

export interface DiscoveredManifest {
  origin: ManifestOrigin;
  /** The manifest's declared name, or the folder/package name when it could not be read. */
  name: string;
  manifest?: unknown;
  error?: string;
}

const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** A path written in a manifest, made absolute. */
export function resolveManifestPath(origin: ManifestOrigin, path: string): string {
  return path.startsWith('./') || path.startsWith('../') ? resolve(origin.manifestDir, path) : resolve(origin.baseDir, path);
}

function readManifest(file: string, origin: ManifestOrigin, fallbackName: string): DiscoveredManifest {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { origin, name: fallbackName, error: `cannot read ${file}: ${(err as Error).message}` };
  }
  const declared = (manifest as { name?: unknown } | null)?.name;
  return { origin, name: typeof declared === 'string' && declared ? declared : fallbackName, manifest };
}

/** Every <dir>/<folder>/connector.json; paths in them are relative to dir's parent (the project root for connectors/). */
export function manifestsInDirectory(dir: string): DiscoveredManifest[] {
  const root = resolve(dir);
  if (!existsSync(root)) return [{ origin: { baseDir: dirname(root), manifestDir: root, source: root }, name: root, error: `connector directory ${root} does not exist` }];
  const found: DiscoveredManifest[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true }).sort((a, b) => byCodeUnits(a.name, b.name))) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const manifestDir = join(root, entry.name);
    const file = join(manifestDir, MANIFEST_FILE);
    if (!existsSync(file)) continue;
    found.push(readManifest(file, { baseDir: dirname(root), manifestDir, source: root }, entry.name));
  }
  return found;
}

/**
 * A connector package: a path (starting with ., / or a drive) to a package directory, or an npm
 * package name looked up in node_modules from `from` upwards, as Node resolves packages.
 */
export function manifestInPackage(spec: string, from: string): DiscoveredManifest {
  const isPath = spec.startsWith('.') || isAbsolute(spec);
  const fallback: ManifestOrigin = { baseDir: from, manifestDir: from, source: `package ${spec}` };
  let dir: string | null = null;
  if (isPath) dir = resolve(spec);
  else if (!PACKAGE_NAME.test(spec)) return { origin: fallback, name: spec, error: `"${spec}" is neither an npm package name nor a path` };
  else {
    for (let d = resolve(from); ; d = dirname(d)) {
      const candidate = join(d, 'node_modules', spec);
      if (existsSync(candidate)) {
        dir = realpathSync(candidate);
        break;
      }
      if (dirname(d) === d) break;
    }
  }
  if (isPath && !existsSync(dir!)) return { origin: fallback, name: spec, error: `connector package directory ${dir} does not exist` };
  if (!dir) return { origin: fallback, name: spec, error: `connector package ${spec} is not installed (npm install ${spec}, or give its directory)` };
  const file = join(dir, MANIFEST_FILE);
  const origin = { baseDir: dir, manifestDir: dir, source: `package ${spec}` };
  if (!existsSync(file)) return { origin, name: spec, error: `connector package ${spec} has no ${MANIFEST_FILE} at its root (${dir})` };
  return readManifest(file, origin, spec);
}

/** The real path of a folder, to recognise one connector reached twice (a directory listed again, a symlink). */
export function sameFolderKey(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}
