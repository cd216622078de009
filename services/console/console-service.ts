// Wires the operator console: its store, its Kafka consumer (lgsp.events and every
// lgsp.dlq.<connector>), the lag monitor, the signing producer for replays and operator audit
// events, and the HTTP app (API + static page). Used by main.ts, `npm start` and tests.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Admin, Consumer } from 'kafkajs';
import { Counter, Gauge } from 'prom-client';
import type { BusConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { SchemaCatalogue } from '../platform/schema-catalogue.js';
import { LiveRegistry } from '../platform/live-registry.js';
import { openServiceKeys } from '../platform/key-files.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { busRecordVerifier } from '../platform/record-writers.js';
import { BatchingProducer, createKafka, ensureTopics } from '../platform/kafka-transport.js';
import { topicsFor } from '../platform/topics.js';
import { AccessTokenVerifier } from '../platform/access-token.js';
import { createMetricsRegistry, serviceHealth } from '../platform/service-health.js';
import { kafkaReadiness } from '../platform/kafka-readiness.js';
import { catchUpMetrics, producerMetrics } from '../platform/kafka-metrics.js';
import { problemHandler } from '../platform/problem-handler.js';
import { finiteRequestNumbers } from '../platform/finite-request-numbers.js';
import { SERVICE_SERVER_OPTIONS } from '../platform/service-server-options.js';
import { bodiesUncoercedValidator } from '../platform/request-validation.js';
import { rateLimitProblem } from '../platform/problem.js';
import { ConsoleStore } from './console-store.js';
import { openDatabase, type Database } from '../platform/database.js';
import { FlowMonitor } from './flow-monitor.js';
import { LagMonitor, type ConsumerGroupSpec } from './consumer-lag.js';
import { LiveFeed } from './live-feed.js';
import { startBusIngest } from './bus-ingest.js';
import { followIndex, type IndexFollower } from './index-follower.js';
import { DeadLetterReplayer } from './dead-letter-replay.js';
import { OperatorAudit } from './operator-audit.js';
import { consoleAuth } from './console-auth.js';
import { ConsoleSessions } from './console-sessions.js';
import { runnerUrls, type ConsoleContext, type UpstreamOptions } from './console-context.js';
import { sessionRoutes } from './routes/session.js';
import { messageRoutes } from './routes/messages.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { liveRoutes } from './routes/live.js';
import { kpiRoutes } from './routes/kpi.js';
import { auditTrailRoutes } from './routes/audit-trail.js';
import { connectorRoutes } from './routes/connectors.js';
import { registryRoutes } from './routes/registry-view.js';
import { webUiRoutes } from './routes/web-ui.js';
import { statsCounter } from '../platform/stats-counter.js';
import { trustProxyOption } from '../platform/trusted-proxies.js';

export interface ConsoleOptions {
  port?: number;
  host?: string;
  /** Where the console's collaborators listen; the gateway defaults to the issuer. */
  upstream?: UpstreamOptions;
  lagIntervalMs?: number;
}

export interface RunningConsole {
  app: FastifyInstance;
  url: string;
  store: ConsoleStore;
  stop(): Promise<void>;
}

export async function startConsole(config: BusConfig, opts: ConsoleOptions = {}): Promise<RunningConsole> {
  const log = createLogger('console', config.logLevel);
  const catalogue = new SchemaCatalogue().loadConnectors(config);
  // Followed as the file changes, whole (live-registry.ts): the registry view, KPIs, consumer
  // groups' topics and bearer checks read it at the time of use.
  const registry = LiveRegistry.watching(config.registryFile, catalogue, log);
  // Its record key only (it writes its operators' audited actions); tokens it verifies.
  const signingKeys = await openServiceKeys(config.keysDir, 'console', ['record'] as const, log);
  const publicKeys = PublicKeyset.open(config.jwksFile, { graceSeconds: config.keyGraceSeconds, log });
  const topics = topicsFor(config.topicPrefix);
  const connectors = catalogue.manifests.map((m) => m.name);
  const kafka = createKafka('lgsp-console', config, 'console', log);

  let admin: Admin | null = null;
  let consumer: Consumer | null = null;
  let indexFollower: IndexFollower | null = null;
  let producer: BatchingProducer | null = null;
  let db: Database | null = null;
  let app: FastifyInstance | null = null;
  let lag: LagMonitor | null = null;
  try {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topics.events, ...connectors.map((c) => topics.deadLetter(c))], config.topicPartitions);
    db = await openDatabase(config.databaseUrl, { applicationName: 'lgsp-console', onError: (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects') });
    const database = db;
    const consoleStore = await ConsoleStore.open(database);
    producer = new BatchingProducer(kafka, () => signingKeys.record.signingKey, {
      lingerMs: config.producerLingerMs,
      maxBatch: config.producerMaxBatch,
      ttlSeconds: config.messageTtlSeconds,
      // An operator action waits for its audit intent: refused as the gateway refuses a
      // submission (LGSP_PRODUCE_TIMEOUT_MS), not after kafkajs's ~41 s of retries.
      acknowledgementTimeoutMs: config.produceTimeoutMs,
    });
    await producer.connect();

    const groups = (): ConsumerGroupSpec[] => [
      ...connectors.map((name) => ({
        name,
        kind: 'connector' as const,
        groupId: `${topics.prefix}lgsp-connector-${name}`,
        topics: [...registry.get().serviceCodesFor(name).map((c) => topics.message(c)), topics.retry(name)],
      })),
      // The audit reads the work topics (each message record is an audit entry) and lgsp.events.
      { name: 'audit', kind: 'service', groupId: `${topics.prefix}lgsp-audit`, topics: [...new Set(registry.get().services.map((s) => topics.message(s.code))), topics.events] },
      // The ledger in the runners: its lag is how far behind GET /v1/messages/{id} and the inboxes are.
      { name: 'ledger', kind: 'service', groupId: `${topics.prefix}lgsp-ledger`, topics: [topics.events, topics.inbox] },
    ];
    lag = new LagMonitor(admin, groups, log, opts.lagIntervalMs ?? 5000);
    const monitor = new FlowMonitor();
    const live = new LiveFeed(monitor, lag, consoleStore.messages, 1000, () => indexFollower?.health() ?? null);
    const metrics = createMetricsRegistry('console');
    const ingest = await startBusIngest({
      kafka,
      topics,
      connectors,
      groupId: `${topics.prefix}lgsp-console-${consoleStore.storeId}`,
      verifier: busRecordVerifier(publicKeys, topics, { enforceExpiry: false }),
      store: consoleStore,
      db: database,
      monitor,
      log,
      onCatchUp: catchUpMetrics(metrics)('console'),
    });
    consumer = ingest.consumer;
    // The message index is written by the ledger; live counts and changed rows follow it.
    const follower = (indexFollower = await followIndex({
      db: database,
      log,
      onEvents: (events) => monitor.record(events),
      onChanged: (ids) => live.messagesChanged(ids),
    }));
    lag.start();

    producerMetrics(metrics, producer);
    const lagMonitor = lag;
    new Gauge({
      name: 'lgsp_consumer_lag',
      help: 'Records not yet consumed by a consumer group (connectors and the audit service), from committed offsets vs high watermarks',
      labelNames: ['group', 'kind'],
      registers: [metrics],
      collect() {
        this.reset();
        for (const l of lagMonitor.lags) if (l.lag !== null) this.set({ group: l.name, kind: l.kind }, l.lag);
      },
    });
    new Gauge({
      name: 'lgsp_dlq_depth',
      help: 'Dead letters not yet replayed, by connector',
      labelNames: ['connector'],
      registers: [metrics],
      async collect() {
        const depth = await consoleStore.deadLetters.depthByConnector();
        this.reset();
        for (const name of connectors) this.set({ connector: name }, depth.get(name) ?? 0);
        // Dead letters kept from a connector the bus no longer runs wait too (until it is back):
        // counted under their connector, so the alert on waiting dead letters sees them.
        for (const [name, n] of depth) if (!connectors.includes(name)) this.set({ connector: name }, n);
      },
    });
    statsCounter({
      name: 'lgsp_console_consumed_total',
      help: 'What the console took in: timeline events followed in the ledger\'s index, dead letters consumed',
      labelNames: ['kind'],
      registers: [metrics],
      read: () => [
        [{ kind: 'event' }, follower.events],
        [{ kind: 'dead_letter' }, ingest.stats.deadLetters],
      ],
    });
    new Gauge({
      name: 'lgsp_console_live_watchers',
      help: 'Operators watching the live flow view',
      registers: [metrics],
      collect() {
        this.set(live.watchers);
      },
    });
    const replays = new Counter({ name: 'lgsp_console_replays_total', help: 'Dead letters replayed from the console', registers: [metrics] });

    const replayer = new DeadLetterReplayer({
      store: consoleStore.deadLetters,
      producer,
      topics,
      verifier: busRecordVerifier(publicKeys, topics),
      connectors,
      onReplayed: () => replays.inc(),
    });
    const ctx: ConsoleContext = {
      config,
      log,
      store: consoleStore,
      registry: registry.get,
      standing: registry,
      connectors,
      monitor,
      lag,
      live,
      replayer,
      audit: new OperatorAudit(producer, topics),
      tokenVerifier: new AccessTokenVerifier(publicKeys.resolver('token'), config.issuer, registry),
      sessions: new ConsoleSessions(),
      upstream: { gateway: opts.upstream?.gateway ?? config.issuer, audit: opts.upstream?.audit ?? null, runners: runnerUrls(opts.upstream) },
    };

    app = Fastify({
      loggerInstance: log as unknown as FastifyBaseLogger,
      bodyLimit: 64 * 1024,
      trustProxy: trustProxyOption(config.trustedProxies),
      logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
      ...SERVICE_SERVER_OPTIONS,
    });
    // Query strings coerced as Fastify does, JSON bodies not: a wrong type is a 400.
    app.setValidatorCompiler(bodiesUncoercedValidator({ removeAdditional: false, allErrors: true }));
    app.removeContentTypeParser('text/plain');
    // Every console body is JSON (the only parser left): a 415 says so, naming the route, instead
    // of sending the operator to an OpenAPI document the console does not serve.
    await app.register(problemHandler, { maxBodyBytes: 64 * 1024, mediaTypes: () => ['application/json'] });
    await app.register(finiteRequestNumbers);
    // Login attempts are limited per address; the 429 says when the window really ends.
    await app.register(rateLimit, { global: false, errorResponseBuilder: rateLimitProblem });
    await app.register(consoleAuth, { verifier: ctx.tokenVerifier, sessions: ctx.sessions });
    await app.register(serviceHealth, {
      metrics,
      checks: {
        kafka: kafkaReadiness(admin),
        registry: async () => registry.readiness(),
        store: async () => {
          const size = await consoleStore.messages.size();
          return { ok: true, detail: `${size.estimated ? 'about ' : ''}${size.messages} messages indexed` };
        },
      },
    });
    app.addHook('preClose', async () => {
      ctx.sessions.close();
      live.close();
    });
    await app.register(async (scope) => {
      await sessionRoutes(scope, ctx);
      await messageRoutes(scope, ctx);
      await deadLetterRoutes(scope, ctx);
      await liveRoutes(scope, ctx);
      await kpiRoutes(scope, ctx);
      await auditTrailRoutes(scope, ctx);
      await connectorRoutes(scope, ctx);
      await registryRoutes(scope, ctx);
      await webUiRoutes(scope);
    });
    const url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
    log.info({ url }, 'console listening');

    const running = { app, consumer, producer, admin, lag };
    let stopping: Promise<void> | null = null;
    return {
      app,
      url,
      store: consoleStore,
      stop: () =>
        (stopping ??= (async () => {
          await running.app.close();
          await running.lag.stop();
          follower.stop();
          await running.consumer.disconnect().catch(() => undefined);
          await running.producer.disconnect().catch(() => undefined);
          await running.admin.disconnect().catch(() => undefined);
          await database.close();
        })()),
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await lag?.stop();
    indexFollower?.stop();
    await consumer?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await db?.close().catch(() => undefined);
    throw err;
  }
}
