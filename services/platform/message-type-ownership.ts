// Each message type belongs to exactly one connector: its schema is what the gateway checks and
// its connector is what delivers it. When two connectors declare the same type, the outcome must
// not depend on folder names or load order (a new connector sorting first would silently take a
// running connector's type). The registry decides: its services name the connector that delivers
// each of their message types. When the registry names one of the claimants, the others are
// refused; when it names none (or several), every claimant is refused with the conflict spelled
// out, so the gateway stops offering the type instead of accepting messages nobody will deliver.
import { existsSync, readFileSync } from 'node:fs';
import type { DiscoveredManifest } from './connector-discovery.js';

/** message type -> connectors the registry's services name for it (empty when unreadable: Registry.load reports that). */
export function registeredConnectorsByType(registryFile: string | undefined): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>();
  if (!registryFile || !existsSync(registryFile)) return owners;
  let services: unknown;
  try {
    services = (JSON.parse(readFileSync(registryFile, 'utf8')) as { services?: unknown } | null)?.services;
  } catch {
    return owners;
  }
  if (!Array.isArray(services)) return owners;
  for (const svc of services as { connector?: unknown; messageTypes?: unknown }[]) {
    if (typeof svc?.connector !== 'string' || !Array.isArray(svc.messageTypes)) continue;
    for (const type of svc.messageTypes) {
      if (typeof type !== 'string') continue;
      let set = owners.get(type);
      if (!set) owners.set(type, (set = new Set()));
      set.add(svc.connector);
    }
  }
  return owners;
}

/**
 * The manifests to refuse because they declare a message type another connector declares too,
 * each with the reason. `isWellFormed` says which manifests count as claims (an invalid manifest
 * is refused for its own reason and takes nothing from anyone).
 */
export function contestedTypeRefusals(
  found: DiscoveredManifest[],
  registered: Map<string, Set<string>>,
  isWellFormed: (manifest: unknown) => boolean,
): Map<DiscoveredManifest, string> {
  const claims = new Map<string, DiscoveredManifest[]>();
  for (const f of found) {
    if (f.error || !isWellFormed(f.manifest)) continue;
    const types = new Set(((f.manifest as { messageTypes: { type: string }[] }).messageTypes).map((mt) => mt.type));
    for (const type of types) {
      const list = claims.get(type);
      if (list) list.push(f);
      else claims.set(type, [f]);
    }
  }
  const refusals = new Map<DiscoveredManifest, string>();
  const refuse = (f: DiscoveredManifest, reason: string): void => {
    if (!refusals.has(f)) refusals.set(f, reason);
  };
  for (const [type, claimants] of claims) {
    const names = [...new Set(claimants.map((c) => c.name))];
    // The same name twice is a name clash, which addManifest reports on its own.
    if (names.length < 2) continue;
    const named = names.filter((n) => registered.get(type)?.has(n));
    if (named.length === 1) {
      const owner = named[0];
      for (const c of claimants) if (c.name !== owner) refuse(c, `connector ${c.name}: message type ${type} is already declared by connector ${owner}, which the registry names for it; a message type belongs to one connector`);
      continue;
    }
    const registryView = registered.has(type) ? `the registry's services carrying it name ${[...registered.get(type)!].sort().join(', ')}` : 'no registry service carries it';
    for (const c of claimants) {
      const others = names.filter((n) => n !== c.name).join(', ');
      refuse(c, `connector ${c.name}: message type ${type} is also declared by connector ${others} and ${registryView}; a message type belongs to one connector, so none of them loads until one declaration goes or the registry names its connector`);
    }
  }
  return refusals;
}
