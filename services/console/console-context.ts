// Everything the console's routes need, built once by console-service.ts.
import type { AccessTokenVerifier } from '../platform/access-token.js';
import type { BusConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Registry } from '../platform/registry.js';
import type { ClientStanding } from '../platform/live-registry.js';
import type { ConsoleStore } from './console-store.js';
import type { LagMonitor } from './consumer-lag.js';
import type { DeadLetterReplayer } from './dead-letter-replay.js';
import type { FlowMonitor } from './flow-monitor.js';
import type { LiveFeed } from './live-feed.js';
import type { OperatorAudit } from './operator-audit.js';
import type { ConsoleSessions } from './console-sessions.js';

export interface UpstreamUrls {
  /** Token endpoint host (login): one gateway, or several comma-separated, tried in order while one does not answer. */
  gateway: string;
  /** Audit service (trail search, integrity); null when not configured. */
  audit: string | null;
  /**
   * Runner management API (connectors): every runner replica's, since each runs its own copy of
   * each connector (its own state, statistics and restart); empty when not configured. A single
   * URL (`runner`) is taken as a list of one.
   */
  runners: string[];
}

/** What callers pass: `runner` as one URL, a comma-separated list or an array of URLs. */
export type UpstreamOptions = Partial<Omit<UpstreamUrls, 'runners'>> & { runner?: string | string[] | null; runners?: string[] };

/** The runner URLs from `runner`/`runners`: comma-separated lists split, blanks and repeats dropped. */
export function runnerUrls(opts: UpstreamOptions | undefined): string[] {
  const given = [...(opts?.runners ?? []), ...(Array.isArray(opts?.runner) ? opts.runner : opts?.runner ? [opts.runner] : [])];
  return [...new Set(given.flatMap((u) => u.split(',')).map((u) => u.trim()).filter(Boolean))];
}

export interface ConsoleContext {
  config: BusConfig;
  log: Logger;
  store: ConsoleStore;
  registry: () => Registry;
  /** Why a system is refused now (disabled, also by a refused file), or null: live-registry.ts. */
  standing: ClientStanding;
  /** Connector names from the manifests the bus knows. */
  connectors: string[];
  monitor: FlowMonitor;
  lag: LagMonitor;
  live: LiveFeed;
  replayer: DeadLetterReplayer;
  audit: OperatorAudit;
  tokenVerifier: AccessTokenVerifier;
  sessions: ConsoleSessions;
  upstream: UpstreamUrls;
}
