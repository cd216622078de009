// Everything the console's routes need, built once by console-service.ts.
import type { AccessTokenVerifier } from '../platform/access-token.js';
import type { BusConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { Registry } from '../platform/registry.js';
import type { ConsoleStore } from './console-store.js';
import type { LagMonitor } from './consumer-lag.js';
import type { DeadLetterReplayer } from './dead-letter-replay.js';
import type { FlowMonitor } from './flow-monitor.js';
import type { LiveFeed } from './live-feed.js';
import type { OperatorAudit } from './operator-audit.js';
import type { ConsoleSessions } from './console-sessions.js';

export interface UpstreamUrls {
  /** Token endpoint host (login). */
  gateway: string;
  /** Audit service (trail search, integrity); null when not configured. */
  audit: string | null;
  /** Runner management API (connectors); null when not configured. */
  runner: string | null;
}

export interface ConsoleContext {
  config: BusConfig;
  log: Logger;
  store: ConsoleStore;
  registry: () => Registry;
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
