// The registry as every service uses it: followed as its file changes, whole. An operator who
// removes an access right, replaces a compromised client's key or secret hash, takes a role away,
// changes an endpoint, disables a system or adds a member or a service expects it to apply on every
// instance within seconds, without a restart (X-Road's security servers reload the global
// configuration the same way). Each service checks the file's modification time every few
// seconds (file-watch.ts: a Kubernetes ConfigMap/Secret update or a rename into place); a new
// file is read, schema-validated and reference-checked (Registry.fromData) and only when it is
// entirely valid replaces the registry in use, at once: one reference is swapped, so a lookup sees
// either the old registry or the new one, never a mix. A file that is not valid keeps the registry
// in use (logged at error level, with the reason but no content of the file) — with one exception,
// kept from when only that much was followed: a system removed or disabled is refused as soon as
// any file that parses with a list of systems says so, so that revoking a leaked key never waits
// for the rest of an edit to be right (removing a system and forgetting its services, say). Such a
// file only takes away: a system it adds or enables waits for a valid file.
//
// Everything reads through get() at the time of use: routes, the token endpoint, bearer checks
// (this is also the ClientStanding AccessTokenVerifier asks), the runner's deliveries and the
// ledger. What a service set up once from the registry at start (Kafka topics and subscriptions)
// it learns of through onChange() (docs/operator-guide.md, "Changing the registry").
import { readFileSync } from 'node:fs';
import type { Logger } from './logger.js';
import { watchFileChanges } from './file-watch.js';
import { Registry, rolesOf, type Role } from './registry.js';
import type { SchemaCatalogue } from './schema-catalogue.js';
import { entryMismatch, type EntryCredentials } from './token-binding.js';

/** How often a service checks the registry file for a change (ms). */
export const REGISTRY_CHECK_INTERVAL_MS = 2000;

/** What a verified token's client may do now, by the registry in use (not by the token). */
export interface ClientStanding {
  /** Why the client may not use a token now (disabled, removed), or null when it may. */
  refusal(clientId: string): string | null;
  /**
   * Why a token bound to `entry` (its fingerprint claim, token-binding.ts) is not taken for the
   * client's entry now, or null when it is: a token of an entry since removed or replaced (another
   * member, key or secret) is refused even when the same client id is back.
   */
  entryRefusal(clientId: string, entry: string | undefined): string | null;
  /** The member the client belongs to now (a token names the one it belonged to when issued). */
  memberOf(clientId: string): string | undefined;
  /** Of the roles a token carries, those its client still holds: a role taken away is not used. */
  rolesNow(clientId: string, roles: readonly Role[]): Role[];
}

/**
 * `find` on the registry in use; when it finds nothing, once more on the file as it is now
 * (LiveRegistry.latest), unless the file has not changed. For a lookup whose miss would refuse
 * something an edit another service read first may have added.
 */
export function findCaughtUp<T>(registry: () => Registry, latest: (() => Registry) | undefined, find: (registry: Registry) => T | undefined): T | undefined {
  const current = registry();
  const found = find(current);
  if (found !== undefined || !latest) return found;
  const now = latest();
  return now === current ? undefined : find(now);
}

/** Told the registry in use was replaced: the new one and the one it replaced. */
export type RegistryListener = (next: Registry, previous: Registry) => void;

/** A file change that was not applied: when, and why (no content of the file). */
export interface RefusedRegistry {
  at: string;
  reason: string;
}

export class LiveRegistry implements ClientStanding {
  private current: Registry;
  private readonly listeners: RegistryListener[] = [];
  private refusedFile: RefusedRegistry | null = null;
  /** When the registry file was found missing (deleted, or a mount gone), or null while it is there. */
  private missingSince: string | null = null;
  /** Which systems a refused file lists, and whether disabled: their standing until a valid file applies. */
  private fileStanding: Map<string, boolean> | null = null;
  /** Looks at the file now (the watch's own check), when the registry follows one. */
  private checkFile: (() => void) | null = null;

  constructor(
    initial: Registry,
    private readonly log?: Logger,
  ) {
    this.current = initial;
  }

  /**
   * The registry of `file`, followed as it changes; throws (RegistryError) when it is not valid at
   * start: a service does not start on a registry it cannot trust.
   */
  static watching(file: string, catalogue: SchemaCatalogue, log?: Logger, intervalMs = REGISTRY_CHECK_INTERVAL_MS): LiveRegistry {
    const live = new LiveRegistry(Registry.load(file, catalogue), log);
    live.checkFile = watchFileChanges(file, intervalMs, () => live.reload(() => Registry.load(file, catalogue), file, () => JSON.parse(readFileSync(file, 'utf8'))), {
      onMissing: () => live.fileMissing(file),
      onBack: () => live.fileBack(file),
    });
    return live;
  }

  /** The registry in use. Take it once for one request or delivery: every lookup then sees the same one. */
  readonly get = (): Registry => this.current;

  /**
   * The registry in use after looking at the file now rather than at the next turn of the timer:
   * for a lookup that found nothing, or less than it was asked (a member, service, system, key or
   * role this instance does not know).
   * Each service reads the file on its own timer, so another may already act on an edit this one
   * has not read: a gateway that routed a message to a service just added must not see a runner
   * refuse its record, and dead-letter it, for a service the runner would know two seconds later.
   * Costs one stat of the file when it has not changed.
   */
  readonly latest = (): Registry => {
    this.checkFile?.();
    return this.current;
  };

  /** The last file change that was refused (invalid) and is still not replaced by a valid one, or null. */
  get refused(): RefusedRegistry | null {
    return this.refusedFile;
  }

  /**
   * For a readiness check: still ready on a refused or missing file (every instance reads the same
   * file, so every one would drop out of service together), but saying so; the reason is in the
   * log, not in this public answer.
   */
  readiness(): { ok: boolean; detail: string } {
    const r = this.current;
    const counts = `${r.members.length} members, ${r.services.length} services`;
    const missing = this.missingSince ? `; the registry file has been missing since ${this.missingSince}: the registry loaded before is in use, and no edit applies until the file is back` : '';
    const refused = this.refusedFile ? `; the registry file changed at ${this.refusedFile.at} but is not valid: the registry before it is in use (see the log)` : '';
    return { ok: r.members.length > 0, detail: counts + missing + refused };
  }

  /** The file was found missing: said once, and in readiness() until it is back. */
  fileMissing(file?: string): void {
    this.missingSince = new Date().toISOString();
    this.log?.warn({ file }, 'registry file is missing: keeping the registry loaded before until it is back');
  }

  /** The file is there again (read as usual if it changed). */
  fileBack(file?: string): void {
    this.log?.warn({ file, missingSince: this.missingSince }, 'registry file is back');
    this.missingSince = null;
  }

  /** Calls `listener` after each replacement (errors it throws are logged, never undo the change). */
  onChange(listener: RegistryListener): void {
    this.listeners.push(listener);
  }

  /** Replaces the registry in use at once, then tells the listeners. */
  replace(next: Registry): void {
    const previous = this.current;
    this.current = next;
    this.refusedFile = null;
    this.fileStanding = null;
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (err) {
        this.log?.error({ err: (err as Error).message }, 'registry change listener failed');
      }
    }
  }

  /**
   * Loads and applies a new registry; one that does not load keeps the one in use, except for which
   * systems exist and are disabled, taken from `raw` (the refused file's JSON) when it has a list of them.
   */
  reload(load: () => Registry, file?: string, raw?: () => unknown): boolean {
    let next: Registry;
    try {
      next = load();
    } catch (err) {
      // RegistryError messages name fields, ids and allowed values, never keys or secret hashes.
      const reason = (err as Error).message;
      this.refusedFile = { at: new Date().toISOString(), reason };
      // A file with no list of systems that reads (half-written) changes nothing: the standing of
      // a refused file before it holds (dropping it would enable again what that file disabled).
      const standing = standingIn(raw);
      this.fileStanding = standing ?? this.fileStanding;
      this.log?.error(
        { file, err: reason, ...(this.fileStanding ? { refusedClients: this.current.data.systems.map((c) => c.clientId).filter((id) => this.refusal(id) !== null) } : {}) },
        standing
          ? 'registry changed but is not valid: keeping the registry loaded before (systems it removes or disables are refused all the same)'
          : 'registry changed but is not valid: keeping the registry loaded before (the file has no list of systems that reads: nothing in it applies)',
      );
      return false;
    }
    this.replace(next);
    this.log?.info({ file, members: next.members.length, systems: next.data.systems.length, services: next.services.length, accessRights: next.data.accessRights.length }, 'registry changed: reloaded');
    return true;
  }

  // The standing below is asked on every request. What it refuses or takes away is asked again of
  // the file as it is now (latest()): a token issued by a gateway that read an edit first (a system
  // added, a key replaced, a role granted) is taken at once here too. It only ever looks at the
  // file; what the file says stands.
  refusal(clientId: string): string | null {
    if (!this.current.system(clientId)) this.latest();
    const system = this.current.system(clientId);
    if (!system || (this.fileStanding && !this.fileStanding.has(clientId))) return `client ${clientId} is not in the registry`;
    // A refused file only takes away: a system disabled in the registry in use stays disabled
    // when an invalid file enables it (its key replaced there, say: the registry in use still
    // holds the old, perhaps leaked, one); only a valid file enables it again.
    if (system.disabled === true || this.fileStanding?.get(clientId) === true) return `client ${clientId} is disabled in the registry`;
    return null;
  }

  entryRefusal(clientId: string, entry: string | undefined): string | null {
    const refusal = this.entryRefusalIn(this.current, clientId, entry);
    if (refusal === null) return null;
    const before = this.current;
    return this.latest() === before ? refusal : this.entryRefusalIn(this.current, clientId, entry);
  }

  private entryRefusalIn(registry: Registry, clientId: string, entry: string | undefined): string | null {
    const system = registry.system(clientId);
    if (!system) return `client ${clientId} is not in the registry`;
    return entryMismatch(clientId, system, entry);
  }

  memberOf(clientId: string): string | undefined {
    return findCaughtUp(this.get, this.latest, (registry) => registry.system(clientId))?.member;
  }

  rolesNow(clientId: string, roles: readonly Role[]): Role[] {
    const held = this.rolesIn(this.current, clientId, roles);
    if (held.length === roles.length) return held;
    const before = this.current;
    return this.latest() === before ? held : this.rolesIn(this.current, clientId, roles);
  }

  private rolesIn(registry: Registry, clientId: string, roles: readonly Role[]): Role[] {
    const system = registry.system(clientId);
    if (!system) return [];
    const held = rolesOf(system);
    return roles.filter((r) => held.includes(r));
  }
}

/** clientId → disabled, of a file's list of systems; null when it has none that reads. */
function standingIn(raw: (() => unknown) | undefined): Map<string, boolean> | null {
  let systems: unknown;
  try {
    systems = (raw?.() as { systems?: unknown } | null)?.systems;
  } catch {
    return null;
  }
  if (!Array.isArray(systems) || !systems.every((s) => s && typeof s === 'object' && typeof (s as { clientId?: unknown }).clientId === 'string')) return null;
  // A system listed twice is disabled when either entry says so. A `disabled` that is there and
  // not the boolean false (`"true"`, `1`, `"yes"`: what made the file invalid) disables: the
  // operator meant to revoke, and such a file only takes away.
  const standing = new Map<string, boolean>();
  for (const s of systems as { clientId: string; disabled?: unknown }[]) standing.set(s.clientId, standing.get(s.clientId) === true || (s.disabled !== undefined && s.disabled !== false));
  return standing;
}

/** clientId → its entry (member and credentials, read loosely), of a file's list of systems; an id listed twice: the last entry. */
function entriesIn(raw: () => unknown): Map<string, EntryCredentials> {
  const entries = new Map<string, EntryCredentials>();
  try {
    const systems = (raw() as { systems?: unknown } | null)?.systems;
    if (Array.isArray(systems)) for (const s of systems) if (s && typeof s === 'object' && typeof s.clientId === 'string') entries.set(s.clientId, s as EntryCredentials);
  } catch {
    /* unreadable now: no entry, every token refused */
  }
  return entries;
}

/**
 * The standing of clients for a service that runs without a registry (the audit), when the file
 * is there but not valid at its start: until the file is valid, a client is refused unless the
 * file lists it, not disabled (a file with no list of systems that reads refuses every client),
 * and its token's roles and member stand; from the first valid file on, the registry decides as
 * everywhere else (LiveRegistry). Without it, an audit started during a bad edit took every
 * token on its signature alone — a disabled operator's, a role taken away — for as long as it ran.
 */
export class StandingUntilValid implements ClientStanding {
  private live: LiveRegistry | null = null;
  private systems: Map<string, boolean> | null;
  /** The entries the file lists, for the fingerprint a token must match (token-binding.ts). */
  private entries: Map<string, EntryCredentials> | null;

  constructor(
    private readonly load: () => Registry,
    private readonly raw: () => unknown,
    private readonly log?: Logger,
  ) {
    this.systems = standingIn(raw);
    this.entries = this.systems ? entriesIn(raw) : null;
  }

  static watching(file: string, catalogue: SchemaCatalogue, log?: Logger, intervalMs = REGISTRY_CHECK_INTERVAL_MS): StandingUntilValid {
    const standing = new StandingUntilValid(() => Registry.load(file, catalogue), () => JSON.parse(readFileSync(file, 'utf8')), log);
    watchFileChanges(file, intervalMs, () => standing.changed(), {
      onMissing: () => log?.warn({ file }, 'registry file is missing: keeping the registry loaded before until it is back'),
      onBack: () => log?.warn({ file }, 'registry file is back'),
    });
    return standing;
  }

  /** The registry, once a valid file was read. */
  get registry(): LiveRegistry | null {
    return this.live;
  }

  changed(): void {
    if (this.live) {
      this.live.reload(this.load, undefined, this.raw);
      return;
    }
    try {
      this.live = new LiveRegistry(this.load(), this.log);
      this.log?.info('registry file now valid: tokens are checked against it');
    } catch (err) {
      const systems = standingIn(this.raw);
      if (systems) {
        this.systems = systems;
        this.entries = entriesIn(this.raw);
      }
      this.log?.error({ err: (err as Error).message }, 'registry changed but is still not valid: tokens are checked against its list of systems only');
    }
  }

  refusal(clientId: string): string | null {
    if (this.live) return this.live.refusal(clientId);
    if (!this.systems?.has(clientId)) return `client ${clientId} is not in the registry (the registry file is not valid: only clients it lists are taken)`;
    return this.systems.get(clientId) ? `client ${clientId} is disabled in the registry` : null;
  }

  entryRefusal(clientId: string, entry: string | undefined): string | null {
    if (this.live) return this.live.entryRefusal(clientId, entry);
    const listed = this.entries?.get(clientId);
    if (!listed) return `client ${clientId} is not in the registry (the registry file is not valid: only clients it lists are taken)`;
    return entryMismatch(clientId, listed, entry);
  }

  memberOf(clientId: string): string | undefined {
    return this.live?.memberOf(clientId);
  }

  rolesNow(clientId: string, roles: readonly Role[]): Role[] {
    return this.live ? this.live.rolesNow(clientId, roles) : [...roles];
  }
}
