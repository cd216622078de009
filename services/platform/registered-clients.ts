// Which systems may hold access tokens now. Every service reads the registry at start, and an
// access token stays valid until it expires (LGSP_TOKEN_TTL_SECONDS): a system the operator
// disables (`"disabled": true` on its entry) or removes from the registry kept reading messages,
// documents and inboxes — and an operator client kept acting in the console — with the tokens it
// held, on every service, until they expired or every service restarted. Each service now
// re-reads the registry file's systems when the file changes (its modification time, checked
// every few seconds like key files: a Kubernetes ConfigMap update or an edit in place) and
// refuses at once both a new token for such a client (gateway, POST /v1/token) and every token it
// already holds (every bearer check). A file that cannot be read or parsed keeps what was loaded
// (logged); the rest of the registry (members, services, access rights) still takes a restart.
import { readFileSync } from 'node:fs';
import type { Logger } from './logger.js';
import { watchFileChanges } from './file-watch.js';

/** How often a service checks the registry file for a change (ms). */
export const REGISTRY_CHECK_INTERVAL_MS = 2000;

interface ClientEntry {
  clientId: string;
  disabled?: boolean;
}

/** Why a client may not use a token now, or null when it may. */
export interface ClientStanding {
  refusal(clientId: string): string | null;
}

export class RegisteredClients implements ClientStanding {
  private disabled = new Set<string>();
  private known = new Set<string>();

  constructor(systems: readonly ClientEntry[]) {
    this.replace(systems);
  }

  /** The systems of `file`, followed as it changes; throws when it cannot be read at start. */
  static watching(file: string, log?: Logger, intervalMs = REGISTRY_CHECK_INTERVAL_MS): RegisteredClients {
    const clients = new RegisteredClients(readSystems(file));
    watchFileChanges(file, intervalMs, () => {
      try {
        clients.replace(readSystems(file));
        log?.info({ file }, 'registry changed: clients reloaded');
      } catch (err) {
        log?.error({ file, err: (err as Error).message }, 'registry changed but cannot be read: keeping the clients loaded before');
      }
    });
    return clients;
  }

  refusal(clientId: string): string | null {
    if (!this.known.has(clientId)) return `client ${clientId} is not in the registry`;
    if (this.disabled.has(clientId)) return `client ${clientId} is disabled in the registry`;
    return null;
  }

  private replace(systems: readonly ClientEntry[]): void {
    this.known = new Set(systems.map((s) => s.clientId));
    this.disabled = new Set(systems.filter((s) => s.disabled === true).map((s) => s.clientId));
  }
}

function readSystems(file: string): ClientEntry[] {
  const data = JSON.parse(readFileSync(file, 'utf8')) as { systems?: unknown };
  if (!Array.isArray(data.systems) || !data.systems.every((s) => s && typeof s === 'object' && typeof (s as ClientEntry).clientId === 'string')) {
    throw new Error('its "systems" is not a list of entries with a clientId');
  }
  return data.systems as ClientEntry[];
}
