// The connector SDK: the whole API an integrator codes against. A connector is a plain object
// made with defineConnector(); the runtime (services/runner) verifies, dedupes, retries,
// dead-letters and audits around it, so a connector only says how to hand a message over.
import type { Envelope } from '../../services/platform/envelope.js';
import type { DeliveryRequest, DeliveryResponse } from '../../services/platform/delivery.js';
import type { ConnectorMetrics } from './metrics.js';
import type { ConnectorSecrets, SecretDeclaration } from './secrets.js';
import type { ConnectorState } from './state.js';

export type { Envelope };
// The order to compare messages in ("newest update wins"): acceptance time, then id.
export { acceptanceOrder } from '../../services/platform/envelope.js';
// The delivery contract and failure classes are the platform's (the runtime and this SDK's test
// harness deliver through the same code); connectors get them from here.
export { RetryableError, WaitForEarlierMessage, PermanentError, isRetryable, waitsForEarlier, type DeliveryRequest, type DeliveryResponse } from '../../services/platform/delivery.js';
// A TypeError for an argument check of the connector's own: its message is kept as the failure's
// reason on the bus, where an engine TypeError's is withheld (docs/write-a-connector.md).
export { UsageError } from '../../services/platform/unplanned-error.js';
export type { ConnectorMetrics, CounterMetric, HistogramMetric, MetricLabels } from './metrics.js';
export type { ConnectorSecrets, SecretDeclaration } from './secrets.js';
export type { ConnectorState } from './state.js';

export interface ConnectorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** The registry entry of the service a message was sent to. */
export interface ServiceTarget {
  code: string;
  provider: string;
  system: string;
  /** Delivery endpoint from the registry (service override or the providing system's). */
  endpoint?: string;
  /** How the providing system takes documents (registry `documentDelivery`), when it says. */
  documentDelivery?: { mode: 'push' | 'pull'; format: 'json' | 'edxml'; edxmlShape?: 'sdk' | 'envelope' | 'soap' };
}

export interface ConnectorContext<Config> {
  connector: string;
  config: Config;
  log: ConnectorLogger;
  service: ServiceTarget;
  /** 1 for the first attempt, incremented by each retry. */
  attempt: number;
  /**
   * Aborted when the runtime shuts down and when the attempt runs past the attempt time limit
   * (LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS, 60 s; the attempt is then abandoned and retried): pass
   * it to long operations, or they keep running beside the next attempt.
   */
  signal: AbortSignal;
  /**
   * Signed HTTP POST of the message (compact JWS by the platform key, headers LGSP-Message-Id
   * and LGSP-Correlation-Id). Resolves on 2xx (and on the request's acceptStatuses); throws
   * RetryableError (5xx, 408, 425, 429 honouring Retry-After, network) or PermanentError (other 4xx).
   */
  deliver(request: DeliveryRequest): Promise<DeliveryResponse>;
  /** Publishes a business status event on the message's timeline (e.g. a receipt code). */
  emitStatus(detail: Record<string, unknown>): Promise<void>;
  /** Counters and histograms on the runner's /metrics (lgsp_connector_<connector>_<name>). */
  metrics: ConnectorMetrics;
  /** The secrets declared in defineConnector({ secrets }), from the environment; never logged. */
  secrets: ConnectorSecrets;
  /**
   * The connector's own keyed JSON state (get/set/compareAndSet/delete), shared by every runner
   * replica and kept across restarts: what a connector must remember between messages. See
   * docs/write-a-connector.md.
   */
  state: ConnectorState;
  /**
   * Answers a request/reply message (one sent with POST /v1/requests, e.g. dossier.lookup): the
   * runtime publishes `payload` as a signed reply correlated by the request's message id, and the
   * gateway holding the caller returns it. Only a digest of the reply reaches the audit log.
   * Replying to a message nobody waits for any more is harmless; the answer is dropped.
   */
  reply(payload: Record<string, unknown>): Promise<void>;
  /**
   * Puts the message in the receiving system's inbox (pull delivery, GET /v1/inbox). Resolves
   * once the deposit is durable; return `{ outcome: 'deposited' }` from handle() so the message
   * counts as delivered only when the system acknowledges it.
   */
  depositToInbox(envelope: Envelope): Promise<void>;
  /**
   * Attachment bytes from the bus's attachment store (claim check), verified against their
   * SHA-256 (and size). Throws an error with `retryable: false` when an attachment is corrupted
   * and a retryable one when it is missing, so it is reported, never delivered silently.
   */
  readAttachment(sha256: string, size?: number): Promise<Uint8Array>;
}

export interface HandleResult {
  /** Recorded on the `delivered` event (no personal data). */
  detail?: Record<string, unknown>;
  /** 'deposited': put in an inbox; `delivered` follows when the system acknowledges. Default 'delivered'. */
  outcome?: 'delivered' | 'deposited';
}

/** What start() gets: the validated configuration and the same facilities handle() has. */
export interface ConnectorStartContext<Config> {
  connector: string;
  config: Config;
  log: ConnectorLogger;
  metrics: ConnectorMetrics;
  secrets: ConnectorSecrets;
  state: ConnectorState;
}

export interface ConnectorDefinition<Config = Record<string, unknown>> {
  name: string;
  description?: string;
  /**
   * JSON Schema of the connector's configuration; validated at start (defaults filled in), and
   * documented from its `description`s (GET /v1/connectors/<name>, `lgsp connector describe`).
   */
  configSchema?: Record<string, unknown>;
  /**
   * Secrets it needs, by name (e.g. `apiKey`): each read from LGSP_SECRET_<CONNECTOR>_<NAME>
   * (or the file in ..._FILE). A required secret that is missing fails the connector's start.
   */
  secrets?: Record<string, SecretDeclaration>;
  start?(ctx: ConnectorStartContext<Config>): Promise<void>;
  stop?(): Promise<void>;
  health?(): Promise<{ ok: boolean; detail?: string }>;
  handle(message: Envelope, ctx: ConnectorContext<Config>): Promise<HandleResult | void>;
}

export function defineConnector<Config = Record<string, unknown>>(definition: ConnectorDefinition<Config>): ConnectorDefinition<Config> {
  if (!/^[a-z][a-z0-9-]{1,62}$/.test(definition.name)) throw new Error(`invalid connector name "${definition.name}"`);
  if (typeof definition.handle !== 'function') throw new Error(`connector ${definition.name} has no handle()`);
  return definition;
}
