// Hosts connectors: loads each from its manifest, runs it as a ConnectorWorker, and serves the
// management API (modelled on Kafka Connect's REST API) plus health and metrics. A connector
// that fails to load or start is marked failed with its error; the others keep running.
// Connectors come from connectors/, LGSP_CONNECTOR_DIRS and LGSP_CONNECTOR_PACKAGES; a broken
// manifest, import, configuration, missing secret or a start() that throws or hangs fails only
// that connector, visible in /v1/connectors/<name>/status and the log. Operator actions (pause,
// resume, restart) are audited before they are carried out.
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { Gauge, Histogram } from 'prom-client';
import type { BusConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import type { Logger } from 'pino';
import { SCHEMA_IDS, SchemaCatalogue, type ConnectorManifest } from '../platform/schema-catalogue.js';
import { uuidv7 } from '../platform/uuid7.js';
import { connectorAuditKey, eventRecords, type BusEvent } from '../platform/bus-events.js';
import { describeConfig } from '@lgsp/sdk/config-reference';
import { secretEnvName } from '@lgsp/sdk/secrets';
import { prometheusConnectorMetrics } from './connector-metrics.js';
import type { Registry } from '../platform/registry.js';
import { LiveRegistry } from '../platform/live-registry.js';
import { startLedger } from '../ledger/ledger.js';
import { openDecryptionKeyring, openServiceKeys } from '../platform/key-files.js';
import { attachmentSealing, payloadOpener, sealerFor } from '../platform/payload-keyring.js';
import { PayloadSealing } from '../platform/sealed-payload.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { busRecordVerifier } from '../platform/record-writers.js';
import { BatchingProducer, createKafka, ensureTopics } from '../platform/kafka-transport.js';
import { topicsFor } from '../platform/topics.js';
import { AccessTokenVerifier } from '../platform/access-token.js';
import { problemHandler } from '../platform/problem-handler.js';
import { withDocumentedAnswers } from '../platform/openapi-answers.js';
import { withCommonResponses } from '../platform/openapi-common-responses.js';
import { withOpenObjects } from '../platform/openapi-open-objects.js';
import { okResponse, problemResponsesWithCodes } from '../platform/openapi-shapes.js';
import { runnerAnswers } from './openapi-answers.js';
import { withPublicOperationsSaid } from '../platform/openapi-public-operations.js';
import { SERVICE_SERVER_OPTIONS } from '../platform/service-server-options.js';
import { problems, ProblemError } from '../platform/problem.js';
import { bearerAuth } from '../platform/bearer-auth.js';
import { createMetricsRegistry, serviceHealth } from '../platform/service-health.js';
import { catchUpMetrics, consumerMetrics, producerMetrics } from '../platform/kafka-metrics.js';
import { statsCounter } from '../platform/stats-counter.js';
import { kafkaReadiness } from '../platform/kafka-readiness.js';
import { ConnectorLoadError, entryChangedSinceImport, entryPath, loadConnector, type LoadedConnector } from './connector-loader.js';
import type { ConnectorDefinition } from '@lgsp/sdk';
import { openAttachmentStore } from '../attachments/attachment-store.js';
import { openDatabase } from '../platform/database.js';
import { instanceId } from '../platform/instance-id.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { startDeliveredLedgerRetention } from './delivered-ledger-retention.js';
import { earlierMessagesIn } from './earlier-messages.js';
import { connectorStateStore } from './connector-state-store.js';
import { ConnectorPauseState } from './pause-state.js';
import { ConnectorWorker, type FirstAttemptTimes, type WorkerDeps } from './connector-worker.js';
import type { Envelope } from '../platform/envelope.js';
import { retryBudget, type ManifestRetry } from './retry-budget-config.js';
import { refuseIfTooLate, START_BY_HEADER } from '../platform/action-start-by.js';

export interface RunnerOptions {
  port?: number;
  host?: string;
  /** Connector names to run; default: every manifest under connectors/. */
  connectors?: string[];
  /**
   * Per-connector configuration, by connector name; or a function read again at every start of
   * a connector, so a restart (management API) picks up an edited configuration file.
   */
  connectorConfig?: Record<string, unknown> | (() => Record<string, unknown> | undefined);
  /** Secret values given in-process (tests), by connector then secret name; otherwise from the environment. */
  connectorSecrets?: Record<string, Record<string, string>>;
  /** Environment secrets are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** false: do not host the ledger (the status and inbox read models); default true. */
  ledger?: boolean;
  /** How often the registry file is checked for an edit (default REGISTRY_CHECK_INTERVAL_MS). */
  registryWatchMs?: number;
  /** The runner's logger (default: one at config.logLevel on standard output); tests pass one to read its lines. */
  log?: Logger;
}

interface ConnectorSlot {
  manifest: ConnectorManifest;
  worker: ConnectorWorker | null;
  loadError: string | null;
  /** Why the connector could not even be discovered (manifest unreadable, not found): restarts cannot fix it. */
  discoveryError?: string;
  /** The loaded module and configuration, once loading succeeded. */
  loaded?: LoadedConnector;
  /** What the module declares, known once it was imported even if a later step failed. */
  definition?: ConnectorDefinition<Record<string, unknown>>;
  /** Paused by an operator (on any runner): kept in PostgreSQL across restarts, see pause-state.ts. */
  paused?: boolean;
  /** The restart under way (an operator's, or one a registry change asked for): the next waits for it. */
  restarting?: Promise<void>;
}

const HEALTH_TIMEOUT_MS = 2000;
const SECRET_LIKE_KEY = /pass|secret|token|key|credential/i;

/** Settles like `work`, or rejects with `message` after `ms` (the work itself is not cancelled). */
function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A connector's configuration as shown to operators: values under secret-looking keys hidden. */
function redactConfig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactConfig);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_LIKE_KEY.test(k) && typeof v !== 'object' ? '[redacted]' : redactConfig(v)]));
  }
  return value;
}

export interface RunningRunner {
  app: FastifyInstance;
  url: string;
  slots: Map<string, ConnectorSlot>;
  stop(): Promise<void>;
}

export async function startRunner(config: BusConfig, opts: RunnerOptions = {}): Promise<RunningRunner> {
  const log = opts.log ?? createLogger('runner', config.logLevel);
  const catalogue = new SchemaCatalogue().loadConnectors(config);
  // Followed as the file changes, whole (live-registry.ts): deliveries, the ledger and bearer
  // checks read it at the time of use. The topics a connector consumes are set when it starts.
  const registry = LiveRegistry.watching(config.registryFile, catalogue, log, opts.registryWatchMs);
  // Its record and delivery keys only: no token key (it cannot mint access tokens) and no
  // checkpoint key. Connector code runs in this process: see docs/operator-guide.md on what that allows.
  const signingKeys = await openServiceKeys(config.keysDir, 'runner', ['record', 'delivery'] as const, log);
  const publicKeys = PublicKeyset.open(config.jwksFile, { graceSeconds: config.keyGraceSeconds, log });
  // Payloads reach the runner sealed for it and leave it (inbox deposits, replies) sealed for the gateway.
  const payloads = new PayloadSealing(sealerFor(publicKeys, 'gateway'), payloadOpener(openDecryptionKeyring(config.keysDir, 'runner', log)));
  const topics = topicsFor(config.topicPrefix);
  const kafka = createKafka(`lgsp-runner-${instanceId()}`, config, 'runner', log);
  const admin = kafka.admin();
  await admin.connect();

  const manifests = catalogue.manifests.filter((m) => !opts.connectors || opts.connectors.includes(m.name));
  await ensureTopics(admin, [
    ...manifests.flatMap((m) => [...registry.get().serviceCodesFor(m.name).map((c) => topics.message(c)), topics.retry(m.name), topics.deadLetter(m.name)]),
    topics.events,
    topics.inbox,
  ], config.topicPartitions);

  const producer = new BatchingProducer(kafka, () => signingKeys.record.signingKey, {
    lingerMs: config.producerLingerMs,
    maxBatch: config.producerMaxBatch,
    ttlSeconds: config.messageTtlSeconds,
  });
  await producer.connect();
  // Work and retry topics: only records the gateway signed reach a connector.
  const verifier = busRecordVerifier(publicKeys, topics);

  // Attachments (the claim check) live in the shared PostgreSQL database.
  const db = await openDatabase(config.databaseUrl, { applicationName: `lgsp-runner-${instanceId()}`, onError: (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects') });
  const attachments = openAttachmentStore(db, attachmentSealing(publicKeys, payloads.opener));
  const deliveredRetention = startDeliveredLedgerRetention({ db, retentionDays: config.runnerDeliveredRetentionDays, log: log.child({ part: 'delivered-ledger-retention' }) });
  const slots = new Map<string, ConnectorSlot>();
  /** Whether every connector has had its first start (readiness says `starting` before). */
  let connectorsStarted = false;
  const metrics = createMetricsRegistry('runner');
  // The ledger (services/ledger) builds the status timelines and inboxes the gateways serve; the
  // runners host it, all in one consumer group.
  const countConsumed = consumerMetrics(metrics);
  // A pool of its own: the ledger's transactions must never hold up the delivery ledger's
  // writes (a receipt not yet written when a runner dies is a delivery made again).
  const ledgerDb = opts.ledger === false
    ? null
    : await openDatabase(config.databaseUrl, { applicationName: `lgsp-ledger-${instanceId()}`, separatePool: 'ledger', maxConnections: 2, onError: (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects') });
  const ledger = ledgerDb === null
    ? null
    : await startLedger({
        kafka,
        topics,
        verifier: busRecordVerifier(publicKeys, topics, { enforceExpiry: false }),
        registry: registry.get,
        latestRegistry: registry.latest,
        db: ledgerDb,
        log: log.child({ part: 'ledger' }),
        publish: (records) => producer.send(records),
        onApplied: (n) => countConsumed('ledger', n),
        onCatchUp: catchUpMetrics(metrics)('ledger'),
        // Every partition of its two topics (events, inbox) at once: one transaction per fetch.
        concurrentPartitions: 2 * config.topicPartitions,
        sessionTimeoutMs: config.consumerSessionTimeoutMs,
      });
  const retryBudgetFor = (name: string) => retryBudget(config, (catalogue.manifests.find((m) => m.name === name) as { retry?: ManifestRetry } | undefined)?.retry);
  // End to end: from the gateway's acceptance (the envelope's time) to the destination's receipt,
  // retries and queueing included — what an agency waits for.
  const deliveryLatency = new Histogram({
    name: 'lgsp_delivery_latency_seconds',
    help: 'Time from acceptance at the gateway to delivery to the destination system, by connector and message type',
    labelNames: ['connector', 'type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [metrics],
  });
  // Where a first attempt's time went, so that a slow delivery can be placed: the gateway
  // (acceptance to its produce; its PostgreSQL write and batching), the broker and the fetch
  // (produced to taken by this runner: consumer lag shows here), the runner's queue (the ledger
  // check, waiting for a delivery slot or for an earlier message of the same key) and the
  // destination (attempt to answer). The first two compare the gateway's clock with this one's.
  const deliveryStages = new Histogram({
    name: 'lgsp_delivery_stage_seconds',
    help: 'Time a first delivery attempt spent in each stage, by connector: gateway (acceptance to produce), fetch (produce to taken by the runner), queue (taken to attempted), destination (attempted to answered)',
    labelNames: ['connector', 'stage'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [metrics],
  });
  const observeDelivered = (connector: string, envelope: Envelope, first?: FirstAttemptTimes) => {
    // The destination's answer ends both the whole and the last stage: they are read off one clock reading.
    const answeredAt = first?.answeredAt ?? Date.now();
    const acceptedAt = Date.parse(envelope.time);
    deliveryLatency.observe({ connector, type: envelope.type }, Math.max(0, answeredAt - acceptedAt) / 1000);
    if (!first) return;
    const stage = (name: string, from: number, to: number) => deliveryStages.observe({ connector, stage: name }, Math.max(0, to - from) / 1000);
    if (first.producedAt !== undefined && Number.isFinite(first.producedAt)) {
      stage('gateway', acceptedAt, first.producedAt);
      stage('fetch', first.producedAt, first.takenAt);
    }
    stage('queue', first.takenAt, first.attemptedAt);
    stage('destination', first.attemptedAt, first.answeredAt);
  };
  const depsFor = (name: string): WorkerDeps => ({
    kafka,
    producer,
    topics,
    registry: registry.get,
    latestRegistry: registry.latest,
    deliveryKey: () => signingKeys.delivery.signingKey,
    verifier,
    validateEnvelope: catalogue.validator(SCHEMA_IDS.envelope),
    replyValidator: (type) => {
      const replySchema = catalogue.messageTypes.get(type)?.replySchema;
      return replySchema ? catalogue.validator(replySchema.$id as string) : null;
    },
    ledger: new DeliveryLedger(db, name),
    state: connectorStateStore(db, name),
    log: log.child({ connector: name }),
    policy: { ...retryBudgetFor(name), baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
    parkedLimit: { records: config.retryParkedMaxRecords, bytes: config.retryParkedMaxBytes },
    deliveryTimeoutMs: config.deliveryTimeoutMs,
    attemptTimeoutMs: config.connectorAttemptTimeoutMs,
    partitionsConsumedConcurrently: config.topicPartitions,
    concurrency: config.deliveryConcurrency,
    commitIntervalMs: config.offsetCommitIntervalMs,
    sessionTimeoutMs: config.consumerSessionTimeoutMs,
    fetch: { minBytes: config.runnerFetchMinBytes, maxWaitTimeInMs: config.runnerFetchMaxWaitMs, window: { ms: config.runnerFetchWindowMs, minBytes: config.runnerFetchWindowBytes } },
    outcomeWindowMs: config.runnerOutcomeWindowMs,
    payloads,
    attachments,
    earlierMessages: earlierMessagesIn(db, config.waitForEarlierMaxSeconds * 1000),
    observeDelivered: (envelope, first) => observeDelivered(name, envelope, first),
  });

  // A connector whose start failed on the bus (a busy cluster answering "does not host this
  // topic-partition" right after topic creation, a broker restarting) is started again with
  // backoff (1 s doubling to 30 s). Without it the runner stayed up and healthy while that
  // connector delivered nothing until someone restarted the process (seen by `npm run chaos`).
  const restartDelays = new Map<string, number>();
  const restartTimers = new Set<NodeJS.Timeout>();
  let runnerStopped = false;
  const scheduleStart = (slot: ConnectorSlot) => {
    const name = slot.manifest.name;
    const delay = restartDelays.get(name) ?? 1000;
    restartDelays.set(name, Math.min(delay * 2, 30_000));
    log.warn({ connector: name, retryInMs: delay }, 'starting the connector again after its start failed');
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!runnerStopped && slot.loadError && !slot.worker) void startSlot(slot);
    }, delay);
    restartTimers.add(timer);
  };

  async function startSlot(slot: ConnectorSlot): Promise<void> {
    const name = slot.manifest.name;
    if (slot.discoveryError) {
      slot.loadError = slot.discoveryError;
      log.error({ connector: name, err: slot.loadError }, 'connector failed to start');
      return;
    }
    slot.worker = null;
    slot.loaded = undefined;
    try {
      // Inside the try: a configuration file that no longer reads fails this connector, with the reason.
      const allConfig = typeof opts.connectorConfig === 'function' ? opts.connectorConfig() : opts.connectorConfig;
      const loaded = await loadConnector(catalogue.root, slot.manifest, allConfig?.[name], {
        env: opts.env,
        secrets: opts.connectorSecrets?.[name],
        metrics: prometheusConnectorMetrics(metrics, name),
      });
      slot.loaded = loaded;
      slot.definition = loaded.definition;
      slot.paused = await pauseState.isPaused(name);
      const worker = new ConnectorWorker(loaded, depsFor(name));
      slot.worker = worker;
      if (slot.paused) worker.pause();
      await withTimeout(worker.start(), config.connectorStartTimeoutMs, `start() did not finish within ${config.connectorStartTimeoutMs} ms`);
      slot.loadError = null;
      restartDelays.delete(name);
      log.info({ connector: name, paused: slot.paused ?? false }, 'connector running');
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (err instanceof ConnectorLoadError && err.definition) slot.definition = err.definition;
      slot.loadError = message.startsWith(`connector ${name}:`) ? message : `connector ${name}: start failed: ${message}`;
      // Release whatever the half-started worker holds; the slot keeps only the reason.
      await slot.worker?.stop().catch(() => undefined);
      slot.worker = null;
      log.error({ connector: name, err: slot.loadError }, 'connector failed to start');
      // Loading errors (module, manifest, configuration) need a fix, not another try.
      if (!(err instanceof ConnectorLoadError) && !runnerStopped) scheduleStart(slot);
    }
  }

  // A pause or resume made through another runner reaches this one's workers here.
  const pauseState = new ConnectorPauseState(db, log, (name, paused) => {
    const slot = slots.get(name);
    if (!slot) return;
    slot.paused = paused;
    if (slot.worker && !slot.loadError) {
      if (paused) slot.worker.pause();
      else slot.worker.resume();
    }
    log.info({ connector: name, paused }, 'connector target state changed');
  });

  // The connectors are started once the HTTP API listens (below): a consumer's group join waits
  // out a dead predecessor's session (30 s after a kill -9), and the runner answered nothing —
  // not /healthz, not the console — for that long (37–50 s measured in an operator's drill).
  for (const manifest of manifests) slots.set(manifest.name, { manifest, worker: null, loadError: null });
  // Connectors that could not be discovered, or were asked for and do not exist, are listed as
  // failed with the reason rather than missing without a word.
  const notFound = (opts.connectors ?? []).filter((n) => !slots.has(n) && !catalogue.failedManifests.some((f) => f.name === n));
  for (const failed of [
    ...catalogue.failedManifests.filter((f) => !opts.connectors || opts.connectors.includes(f.name)),
    ...notFound.map((n) => ({ name: n, source: 'configuration', error: `connector ${n}: no connector.json declares it (looked in connectors/, LGSP_CONNECTOR_DIRS and LGSP_CONNECTOR_PACKAGES)` })),
  ]) {
    if (slots.has(failed.name)) continue;
    const error = failed.error.startsWith(`connector ${failed.name}`) ? failed.error : `connector ${failed.name}: ${failed.error}`;
    const slot: ConnectorSlot = {
      manifest: { name: failed.name, entry: '', messageTypes: [], source: failed.source },
      worker: null,
      loadError: null,
      discoveryError: `${error} (connector.json is read when the runner starts: restart the runner once it is fixed)`,
    };
    slots.set(failed.name, slot);
  }

  /** Stops and starts a connector again, one restart of it at a time (the management API's, a registry change's). */
  const restartSlot = (slot: ConnectorSlot): Promise<void> => {
    const run = (slot.restarting ?? Promise.resolve()).then(async () => {
      await slot.worker?.stop();
      if (!runnerStopped) await startSlot(slot);
    });
    slot.restarting = run.catch(() => undefined);
    return run;
  };

  // A Kafka subscription is made once, when a connector starts: a service added to a running
  // connector in the registry (or moved to it from another one) has a topic it does not read.
  // Such a connector is started again at once, on its new topics (its paused state, kept in
  // PostgreSQL, holds across it), so a service added to the registry is delivered without anyone
  // restarting anything. A service removed or moved away alone restarts nothing: its topic is
  // still read until the connector next starts, and records left on it are refused with a reason
  // (dead letters) rather than left unread.
  const followRegistry = (next: Registry) => {
    for (const [name, slot] of slots) {
      const worker = slot.worker;
      if (!worker || slot.loadError) continue;
      const consumed = new Set(worker.topics);
      const wanted = [...next.serviceCodesFor(name).map((c) => topics.message(c)), topics.retry(name)];
      const added = wanted.filter((topic) => !consumed.has(topic));
      const dropped = [...consumed].filter((topic) => !wanted.includes(topic));
      if (dropped.length > 0) {
        log.warn({ connector: name, dropped }, `registry change: connector ${name} no longer delivers the services of ${dropped.join(', ')}; it reads them until it next starts, refusing their records`);
      }
      if (added.length === 0) continue;
      log.info({ connector: name, added }, `registry change: connector ${name} delivers new services; starting it again to read ${added.join(', ')}`);
      // The gateways make the topics of new services too; whichever comes first.
      void ensureTopics(admin, added, config.topicPartitions)
        .then(() => restartSlot(slot))
        .catch((err: Error) => log.error({ connector: name, topics: added, err: err.message }, `registry change: connector ${name} could not start reading its new services (restart it: POST /v1/connectors/${name}/restart)`));
    }
  };
  registry.onChange((next) => {
    if (!runnerStopped) followRegistry(next);
  });

  producerMetrics(metrics, producer);
  // What an operator watches during an outage: retries parked in memory (bounded by
  // LGSP_RETRY_PARKED_MAX_*), retry partitions paused at that cap, destinations held behind a probe.
  const workers = () => [...slots].flatMap(([name, slot]) => (slot.worker ? [[name, slot.worker] as const] : []));
  const gauge = (name: string, help: string, read: (w: ConnectorWorker) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['connector'],
      registers: [metrics],
      collect() {
        this.reset();
        for (const [connector, w] of workers()) this.set({ connector }, read(w));
      },
    });
  gauge('lgsp_runner_parked_records', 'Retries parked in memory until their due time, by connector', (w) => w.parked.records);
  gauge('lgsp_runner_parked_bytes', 'Bytes of the retries parked in memory, by connector', (w) => w.parked.bytes);
  gauge('lgsp_runner_retry_partitions_paused', 'Retry-topic partitions paused because the parked cap was reached, by connector', (w) => w.spilledPartitions);
  gauge('lgsp_runner_open_circuits', 'Destinations whose retries wait behind a probe (circuit open), by connector', (w) => w.openCircuits.length);
  const counters = ['delivered', 'retried', 'deadLettered', 'rejected', 'duplicates'] as const;
  for (const counter of counters) {
    statsCounter({
      name: `lgsp_connector_${counter.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}_total`,
      help: `Messages ${counter} by connector since start`,
      labelNames: ['connector'],
      registers: [metrics],
      read: () => [...slots].flatMap(([name, slot]) => (slot.worker ? [[{ connector: name }, slot.worker.stats[counter]] as [Record<string, string>, number]] : [])),
    });
  }

  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    ...SERVICE_SERVER_OPTIONS,
  });
  // The management actions take no body (or JSON, empty or not, from HTTP stacks that always
  // send one): a text/plain body is refused with 415 as every other non-JSON type is, and as the
  // gateway and the console refuse it, instead of being read as a string and ignored.
  app.removeContentTypeParser('text/plain');
  await app.register(problemHandler, { maxBodyBytes: 64 * 1024, openapiPath: '/openapi.json' });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'LGSP bus connector runner API', version: '1.0.0', description: 'List, describe, watch, pause, resume and restart the connectors this runner hosts (Kafka Connect style). Operators act; observers read.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // As the gateway's and the audit's: precise success answers (openapi-answers.ts), the answers
    // every operation can give and operationIds, open objects said to be open. No 429: the runner
    // registers no rate limit.
    transformObject: (document) => ('openapiObject' in document ? withPublicOperationsSaid(withOpenObjects(withCommonResponses(withDocumentedAnswers(document.openapiObject, runnerAnswers)))) : document.swaggerObject),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(bearerAuth, { verifier: new AccessTokenVerifier(publicKeys.resolver('token'), config.issuer, registry) });
  await app.register(serviceHealth, {
    metrics,
    checks: {
      kafka: kafkaReadiness(admin),
      registry: async () => registry.readiness(),
      // The ledger, connector state and pauses all live there.
      database: async () => {
        await db.query('SELECT 1');
        return { ok: true, detail: 'PostgreSQL reachable' };
      },
      connectors: async () => {
        const failed = [...slots.values()].filter((s) => s.loadError).map((s) => s.manifest.name);
        // Not ready before every connector has had its first start (the API answers meanwhile).
        const starting = connectorsStarted ? [] : [...slots.values()].filter((s) => !s.loadError && !s.discoveryError && s.worker?.state !== 'running' && s.worker?.state !== 'paused').map((s) => s.manifest.name);
        if (starting.length > 0) return { ok: false, detail: `starting: ${starting.join(', ')}` };
        return { ok: slots.size > 0 && failed.length < slots.size, detail: failed.length ? `failed: ${failed.join(', ')}` : `${slots.size} running` };
      },
    },
  });

  const healthOf = async (slot: ConnectorSlot): Promise<{ ok: boolean; detail?: string } | null> => {
    const health = slot.loaded?.definition.health;
    if (!health || !slot.worker || slot.loadError || !['running', 'paused'].includes(slot.worker.state)) return null;
    try {
      const result = await withTimeout(health.call(slot.loaded!.definition), HEALTH_TIMEOUT_MS, `health() did not answer within ${HEALTH_TIMEOUT_MS} ms`);
      return { ok: Boolean(result?.ok), ...(result?.detail ? { detail: String(result.detail) } : {}) };
    } catch (err) {
      return { ok: false, detail: `health() failed: ${(err as Error)?.message ?? String(err)}` };
    }
  };
  const statusOf = async (slot: ConnectorSlot) => ({
    name: slot.manifest.name,
    connector: { state: slot.loadError ? 'FAILED' : (slot.worker?.state ?? 'failed').toUpperCase(), trace: slot.loadError ?? undefined },
    lastError: slot.loadError ?? slot.worker?.lastError ?? null,
    stats: slot.worker?.stats ?? null,
    retry: slot.worker ? { parked: slot.worker.parked, pausedRetryPartitions: slot.worker.spilledPartitions, openCircuits: slot.worker.openCircuits } : null,
    topics: slot.worker?.topics ?? [],
    source: slot.manifest.source ?? join(catalogue.root, 'connectors'),
    health: await healthOf(slot),
    codeChanged: slot.manifest.entry ? entryChangedSinceImport(entryPath(slot.manifest.baseDir ?? catalogue.root, slot.manifest.entry)) : null,
  });
  /** GET /v1/connectors/<name>: what the connector is and how it is configured (Kafka Connect's GET /connectors/{name}). */
  const descriptionOf = (slot: ConnectorSlot) => {
    const definition = slot.definition;
    const name = slot.manifest.name;
    return {
      name,
      description: definition?.description ?? slot.manifest.description ?? null,
      source: slot.manifest.source ?? join(catalogue.root, 'connectors'),
      messageTypes: slot.manifest.messageTypes.map((mt) => ({ type: mt.type, description: mt.description, schema: `/v1/schemas/${encodeURIComponent(mt.type)}` })),
      services: registry.get().services.filter((s) => s.connector === name).map((s) => ({ code: s.code, provider: s.provider, system: s.system })),
      configSchema: definition?.configSchema ?? null,
      settings: describeConfig(definition?.configSchema),
      config: slot.loaded ? redactConfig(slot.loaded.config) : null,
      secrets: Object.entries(definition?.secrets ?? {}).map(([secret, d]) => ({
        name: secret,
        description: d.description,
        optional: d.optional ?? false,
        variable: secretEnvName(name, secret),
        set: slot.loaded?.secrets?.has(secret) ?? false,
      })),
    };
  };
  const slotOr404 = (name: string): ConnectorSlot => {
    const slot = slots.get(name);
    if (!slot) throw problems.notFound('UNKNOWN_CONNECTOR', `No connector ${name}`);
    return slot;
  };
  const runningOr409 = (slot: ConnectorSlot): ConnectorWorker => {
    if (!slot.worker || slot.loadError) {
      throw problems.conflict('CONNECTOR_NOT_RUNNING', `Connector ${slot.manifest.name} is not running (${slot.loadError ?? 'not started'}); restart it once the cause is fixed`);
    }
    return slot.worker;
  };
  /** Written (acks=all) before the action: an action that cannot be audited is not carried out. */
  const auditAction = async (req: FastifyRequest, action: 'connector_pause' | 'connector_resume' | 'connector_restart', name: string, detail: Record<string, unknown> = {}) => {
    const caller = req.caller!;
    const ev: BusEvent = {
      id: uuidv7(),
      event: 'operator_action',
      at: new Date().toISOString(),
      actor: `runner/${caller.clientId}`,
      detail: { action, connector: name, operator: caller.clientId, member: caller.member, roles: caller.roles, via: 'runner', ...detail },
    };
    try {
      // Keyed by the connector, as the console keys its intent (connectors.ts): one partition,
      // so the audit chain has the operator's intent before the runner's record of acting on it.
      await producer.send(eventRecords(topics, ev, connectorAuditKey(name)));
    } catch (err) {
      throw new ProblemError(503, 'AUDIT_UNAVAILABLE', 'Service unavailable', `The action was not carried out because it could not be audited: ${(err as Error).message}`, { retryAfterSeconds: 5 });
    }
  };
  const read = { roles: ['operator' as const, 'observer' as const] };
  const write = { roles: ['operator' as const] };
  // The route schemas document; the handlers answer as they always did (okResponse: empty schemas).
  const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', description: 'The connector\'s name (GET /v1/connectors)' } } };
  const documented = (summary: string, responses: Record<number, unknown>, withName = true) => ({
    tags: ['connectors'],
    summary,
    security: [{ bearer: [] }],
    ...(withName ? { params: nameParams } : {}),
    // 403: an agency system's token, or an observer's for an action.
    response: { ...responses, ...problemResponsesWithCodes({ 403: ['ROLE_REQUIRED'] }) },
  });
  const unknownConnector = problemResponsesWithCodes({ 404: ['UNKNOWN_CONNECTOR'] });
  // type null: documented without a body (@fastify/swagger lists no content for it).
  const accepted = (description: string) => ({ 202: { description, type: 'null' } });
  const auditUnavailable = problemResponsesWithCodes({ 503: ['AUDIT_UNAVAILABLE'] });
  // The actions take no body; one of a type other than JSON (text/plain, a form) is refused.
  const bodyRefused = problemResponsesWithCodes({ 415: ['UNSUPPORTED_MEDIA_TYPE'] });
  app.get('/v1/connectors', { config: read, schema: documented('Names of the hosted connectors, failed ones included', okResponse('A JSON array of names'), false) }, async () => [...slots.keys()]);
  app.get<{ Params: { name: string } }>('/v1/connectors/:name', {
    config: read,
    schema: documented('What the connector is and how it is configured (secret-looking values hidden)', { ...okResponse('Its message types, services, settings, configuration and secrets (set or not)'), ...unknownConnector }),
  }, async (req) => descriptionOf(slotOr404(req.params.name)));
  app.get<{ Params: { name: string } }>('/v1/connectors/:name/status', {
    config: read,
    schema: documented('RUNNING, PAUSED or FAILED with the reason, counters, parked retries, topics, health()', { ...okResponse('Its status'), ...unknownConnector }),
  }, async (req) => statusOf(slotOr404(req.params.name)));
  // The console's deadline for starting an action (action-start-by.ts), documented on the actions.
  const startBy = { headers: { type: 'object', properties: { [START_BY_HEADER]: { type: 'string', description: 'RFC 3339 time by which the action must start: one that arrives later is refused (408 REQUEST_TIMEOUT) and not carried out, as its caller has stopped waiting. The console sends it; without it the action is taken whenever it arrives.' } } } };
  const pauseOrResume = (what: string) => ({ ...startBy, ...documented(what, { ...accepted('Done; audited first as an operator_action'), ...unknownConnector, ...problemResponsesWithCodes({ 409: ['CONNECTOR_NOT_RUNNING'] }), ...auditUnavailable, ...bodyRefused }) });
  app.put<{ Params: { name: string } }>('/v1/connectors/:name/pause', { config: write, schema: pauseOrResume('Stop consuming (messages wait on Kafka); survives restarts') }, async (req, reply) => {
    refuseIfTooLate(req);
    const slot = slotOr404(req.params.name);
    const worker = runningOr409(slot);
    await auditAction(req, 'connector_pause', slot.manifest.name);
    await pauseState.set(slot.manifest.name, true, req.caller!.clientId);
    slot.paused = true;
    worker.pause();
    return reply.code(202).send();
  });
  app.put<{ Params: { name: string } }>('/v1/connectors/:name/resume', { config: write, schema: pauseOrResume('Consume again') }, async (req, reply) => {
    refuseIfTooLate(req);
    const slot = slotOr404(req.params.name);
    const worker = runningOr409(slot);
    await auditAction(req, 'connector_resume', slot.manifest.name);
    await pauseState.set(slot.manifest.name, false, req.caller!.clientId);
    slot.paused = false;
    worker.resume();
    return reply.code(202).send();
  });
  app.post<{ Params: { name: string } }>('/v1/connectors/:name/restart', {
    config: write,
    schema: { ...startBy, ...documented('Stop and start again: re-reads configuration and secrets, re-imports a module that failed to import', {
      202: { description: 'Restarted; the status after the restart (codeChanged set when the running code is older than the built file)', content: { 'application/json': { schema: {} } } },
      ...unknownConnector,
      ...auditUnavailable,
      ...bodyRefused,
    }) },
  }, async (req, reply) => {
    refuseIfTooLate(req);
    const slot = slotOr404(req.params.name);
    await auditAction(req, 'connector_restart', slot.manifest.name, { previousState: slot.loadError ? 'FAILED' : slot.worker?.state.toUpperCase() ?? null });
    await restartSlot(slot);
    const status = await statusOf(slot);
    if (status.codeChanged) log.warn({ connector: slot.manifest.name, codeChanged: status.codeChanged }, 'connector restarted on the code imported before');
    return reply.code(202).send(status);
  });
  const url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  for (const slot of slots.values()) await startSlot(slot);
  connectorsStarted = true;
  pauseState.startPolling();

  return {
    app,
    url,
    slots,
    async stop() {
      runnerStopped = true;
      for (const timer of restartTimers) clearTimeout(timer);
      await app.close();
      await pauseState.stop();
      await deliveredRetention.stop();
      for (const slot of slots.values()) {
        await slot.restarting;
        await slot.worker?.stop();
      }
      await ledger?.disconnect().catch(() => undefined);
      await ledgerDb?.close();
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await db.close();
    },
  };
}
