// Hosts connectors: loads each from its manifest, runs it as a ConnectorWorker, and serves the
// management API (modelled on Kafka Connect's REST API) plus health and metrics. A connector
// that fails to load or start is marked failed with its error; the others keep running.
import { join } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import type { BusConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { SCHEMA_IDS, SchemaCatalogue, type ConnectorManifest } from '../platform/schema-catalogue.js';
import { Registry } from '../platform/registry.js';
import { PlatformKeystore } from '../platform/keystore.js';
import { BatchingProducer, createKafka, ensureTopics } from '../platform/kafka-transport.js';
import { topicsFor } from '../platform/topics.js';
import { RecordVerifier } from '../platform/record-signing.js';
import { AccessTokenVerifier } from '../platform/access-token.js';
import { problemHandler } from '../platform/problem-handler.js';
import { problems } from '../platform/problem.js';
import { bearerAuth } from '../platform/bearer-auth.js';
import { createMetricsRegistry, serviceHealth } from '../platform/service-health.js';
import { producerMetrics } from '../platform/kafka-metrics.js';
import { kafkaReadiness } from '../platform/kafka-readiness.js';
import { loadConnector } from './connector-loader.js';
import { openAttachmentStore } from '../attachments/attachment-store.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { ConnectorWorker, type WorkerDeps } from './connector-worker.js';

export interface RunnerOptions {
  port?: number;
  host?: string;
  /** Connector names to run; default: every manifest under connectors/. */
  connectors?: string[];
  /** Per-connector configuration, by connector name. */
  connectorConfig?: Record<string, unknown>;
}

interface ConnectorSlot {
  manifest: ConnectorManifest;
  worker: ConnectorWorker | null;
  ledger: DeliveryLedger | null;
  loadError: string | null;
}

export interface RunningRunner {
  app: FastifyInstance;
  url: string;
  slots: Map<string, ConnectorSlot>;
  stop(): Promise<void>;
}

export async function startRunner(config: BusConfig, opts: RunnerOptions = {}): Promise<RunningRunner> {
  const log = createLogger('runner', config.logLevel);
  const catalogue = new SchemaCatalogue().loadConnectorManifests();
  const registry = Registry.load(config.registryFile, catalogue);
  const keystore = await PlatformKeystore.open(config.keysFile);
  const topics = topicsFor(config.topicPrefix);
  const kafka = createKafka('lgsp-runner', config.kafkaBrokers, log);
  const admin = kafka.admin();
  await admin.connect();

  const manifests = catalogue.manifests.filter((m) => !opts.connectors || opts.connectors.includes(m.name));
  await ensureTopics(admin, [
    ...manifests.flatMap((m) => [...registry.serviceCodesFor(m.name).map((c) => topics.message(c)), topics.retry(m.name), topics.deadLetter(m.name)]),
    topics.events,
    topics.audit,
    topics.inbox,
  ], config.topicPartitions);

  const producer = new BatchingProducer(kafka, () => keystore.signingKey, {
    lingerMs: config.producerLingerMs,
    maxBatch: config.producerMaxBatch,
    ttlSeconds: config.messageTtlSeconds,
  });
  await producer.connect();
  const verifier = new RecordVerifier(keystore.publicKeyLookup());

  const attachments = openAttachmentStore(config);
  const slots = new Map<string, ConnectorSlot>();
  const depsFor = (ledger: DeliveryLedger, name: string): WorkerDeps => ({
    kafka,
    producer,
    topics,
    registry: () => registry,
    keystore,
    verifier,
    validateEnvelope: catalogue.validator(SCHEMA_IDS.envelope),
    ledger,
    log: log.child({ connector: name }),
    policy: { maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
    deliveryTimeoutMs: config.deliveryTimeoutMs,
    partitionsConsumedConcurrently: config.topicPartitions,
    concurrency: config.deliveryConcurrency,
    attachments,
  });

  async function startSlot(slot: ConnectorSlot): Promise<void> {
    const name = slot.manifest.name;
    try {
      const loaded = await loadConnector(catalogue.root, slot.manifest, opts.connectorConfig?.[name]);
      slot.ledger ??= new DeliveryLedger(join(config.dataDir, `runner-${name}.db`));
      slot.worker = new ConnectorWorker(loaded, depsFor(slot.ledger, name));
      await slot.worker.start();
      slot.loadError = null;
      log.info({ connector: name }, 'connector running');
    } catch (err) {
      slot.loadError = (err as Error).message;
      if (slot.worker) slot.worker.state = 'failed';
      log.error({ connector: name, err: slot.loadError }, 'connector failed to start');
    }
  }

  for (const manifest of manifests) {
    const slot: ConnectorSlot = { manifest, worker: null, ledger: null, loadError: null };
    slots.set(manifest.name, slot);
    await startSlot(slot);
  }

  const metrics = createMetricsRegistry('runner');
  producerMetrics(metrics, producer);
  const counters = ['delivered', 'retried', 'deadLettered', 'rejected', 'duplicates'] as const;
  for (const counter of counters) {
    new Gauge({
      name: `lgsp_connector_${counter.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}_total`,
      help: `Messages ${counter} by connector since start`,
      labelNames: ['connector'],
      registers: [metrics],
      collect() {
        for (const [name, slot] of slots) if (slot.worker) this.set({ connector: name }, slot.worker.stats[counter]);
      },
    });
  }

  const app = Fastify({ loggerInstance: log as unknown as FastifyBaseLogger });
  await app.register(problemHandler, { maxBodyBytes: 64 * 1024 });
  await app.register(bearerAuth, { verifier: new AccessTokenVerifier(keystore.keyResolver(), config.issuer) });
  await app.register(serviceHealth, {
    metrics,
    checks: {
      kafka: kafkaReadiness(admin),
      connectors: async () => {
        const failed = [...slots.values()].filter((s) => s.loadError).map((s) => s.manifest.name);
        return { ok: slots.size > 0 && failed.length < slots.size, detail: failed.length ? `failed: ${failed.join(', ')}` : `${slots.size} running` };
      },
    },
  });

  const statusOf = (slot: ConnectorSlot) => ({
    name: slot.manifest.name,
    connector: { state: slot.loadError ? 'FAILED' : (slot.worker?.state ?? 'failed').toUpperCase(), trace: slot.loadError ?? undefined },
    lastError: slot.loadError ?? slot.worker?.lastError ?? null,
    stats: slot.worker?.stats ?? null,
    topics: slot.worker?.topics ?? [],
  });
  const slotOr404 = (name: string): ConnectorSlot => {
    const slot = slots.get(name);
    if (!slot) throw problems.notFound('UNKNOWN_CONNECTOR', `No connector ${name}`);
    return slot;
  };
  const read = { roles: ['operator' as const, 'observer' as const] };
  const write = { roles: ['operator' as const] };
  app.get('/v1/connectors', { config: read }, async () => [...slots.keys()]);
  app.get<{ Params: { name: string } }>('/v1/connectors/:name/status', { config: read }, async (req) => statusOf(slotOr404(req.params.name)));
  app.put<{ Params: { name: string } }>('/v1/connectors/:name/pause', { config: write }, async (req, reply) => {
    slotOr404(req.params.name).worker?.pause();
    return reply.code(202).send();
  });
  app.put<{ Params: { name: string } }>('/v1/connectors/:name/resume', { config: write }, async (req, reply) => {
    slotOr404(req.params.name).worker?.resume();
    return reply.code(202).send();
  });
  app.post<{ Params: { name: string } }>('/v1/connectors/:name/restart', { config: write }, async (req, reply) => {
    const slot = slotOr404(req.params.name);
    await slot.worker?.stop();
    await startSlot(slot);
    return reply.code(202).send(statusOf(slot));
  });
  const url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });

  return {
    app,
    url,
    slots,
    async stop() {
      await app.close();
      for (const slot of slots.values()) await slot.worker?.stop();
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      for (const slot of slots.values()) slot.ledger?.close();
    },
  };
}
