// Wires a gateway: registry, keys, Kafka producer, the shared PostgreSQL store and the HTTP app.
// Used by main.ts, by `npm start` and by tests (which start it in-process). Any number of
// gateways run side by side: they consume nothing from Kafka (request/reply waits aside) and
// share their state through PostgreSQL, where the ledger (services/ledger, hosted by the
// runners) writes statuses and inboxes; the instance id only names this process.
import type { FastifyInstance } from 'fastify';
import type { BusConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { SchemaCatalogue } from '../platform/schema-catalogue.js';
import { LiveRegistry } from '../platform/live-registry.js';
import { openDecryptionKeyring, openServiceKeys } from '../platform/key-files.js';
import { payloadOpener, sealerFor } from '../platform/payload-keyring.js';
import { PayloadSealing } from '../platform/sealed-payload.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { BatchingProducer, createKafka, ensureTopics } from '../platform/kafka-transport.js';
import { topicsFor } from '../platform/topics.js';
import { AccessTokenVerifier } from '../platform/access-token.js';
import { createMetricsRegistry } from '../platform/service-health.js';
import { producerMetrics } from '../platform/kafka-metrics.js';
import type { BusEvent } from '../platform/bus-events.js';
import { isDataError, openDatabase } from '../platform/database.js';
import { instanceId as resolveInstanceId } from '../platform/instance-id.js';
import { ClusterRateCounts, RATE_LIMIT_WINDOW_MS } from './shared-rate-limit.js';
import { BatchedWriter } from '../platform/batched-writer.js';
import { MessageStore } from './message-store.js';
import { ConcurrencyLimit } from '../platform/concurrency-limit.js';
import { problems } from '../platform/problem.js';
import { AssertionReplayCache, ClientAuthenticator, assertionAudiences } from './client-authentication.js';
import { RejectionAudit } from './rejection-audit.js';
import { buildGatewayApp } from './app.js';
import { kafkaReadiness } from '../platform/kafka-readiness.js';
import type { GatewayModule } from '../platform/gateway-module.js';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  port?: number;
  host?: string;
  instanceId?: string;
  /** The domain modules to run (services/composition/gateway-modules.ts): routes and business rules. */
  modules: readonly GatewayModule[];
  /** How often the registry file is checked for an edit (default REGISTRY_CHECK_INTERVAL_MS). */
  registryWatchMs?: number;
}

const DATABASE_CONNECTIONS = 20;
/**
 * Transactions held open while Kafka acknowledges (an Idempotency-Key, a document, a dossier)
 * take at most this many of the connections; the others stay free for what must not queue
 * behind them — accepted rows of plain messages and requests, status reads, client-assertion
 * checks at the token endpoint. Without the bound a burst of dossier submissions (or a slow
 * Kafka) can hold every connection, and everything else waits for one (a dossier.lookup sent
 * during the retry-storm test's burst of 80 submissions took 0.8–1.4 s to be accepted in CI).
 */
// Half: a held transaction lasts one Kafka acknowledgement (milliseconds), so 10 of them carry
// hundreds of dossier or Idempotency-Key submissions a second.
const HELD_TRANSACTIONS = DATABASE_CONNECTIONS / 2;
/**
 * How long a submission waits for one of those slots before it is refused (503 GATEWAY_BUSY).
 * While Kafka or PostgreSQL hangs each slot is held up to its own bound (LGSP_PRODUCE_TIMEOUT_MS,
 * the statement timeout), and the queue behind them grew with the hang: keyed submissions waited
 * 30–40 s in an operator's drill, past any client's timeout, where the guide promises a 503.
 * In normal running a slot is free within milliseconds.
 */
const HELD_TRANSACTION_WAIT_MS = 5000;

export async function startGateway(config: BusConfig, opts: GatewayOptions): Promise<RunningGateway> {
  const log = createLogger('gateway', config.logLevel);
  const instanceId = resolveInstanceId(opts.instanceId);
  const catalogue = new SchemaCatalogue().loadConnectors(config);
  for (const f of catalogue.failedManifests) log.warn({ connector: f.name, err: f.error }, 'connector manifest refused: its message types are not offered');
  // Followed as the file changes, whole (live-registry.ts): everything below reads it at the time of use.
  const registry = LiveRegistry.watching(config.registryFile, catalogue, log, opts.registryWatchMs);
  // Its own private keys only; other services' keys it knows from the public keyset.
  const signingKeys = await openServiceKeys(config.keysDir, 'gateway', ['token', 'record', 'delivery'] as const, log);
  const publicKeys = PublicKeyset.open(config.jwksFile, { graceSeconds: config.keyGraceSeconds, log });
  // Payloads travel sealed for the runner, which hands them to connectors; what the runner
  // seals for the gateway (inbox deposits, replies) the gateway opens when it serves them; what
  // it stores for itself (document subjects, status descriptions) it seals for its own key.
  const payloads = new PayloadSealing(sealerFor(publicKeys, 'runner'), payloadOpener(openDecryptionKeyring(config.keysDir, 'gateway', log)), sealerFor(publicKeys, 'gateway'));
  const topics = topicsFor(config.topicPrefix);
  const kafka = createKafka(`lgsp-gateway-${instanceId}`, config, 'gateway', log);
  const db = await openDatabase(config.databaseUrl, {
    applicationName: `lgsp-gateway-${instanceId}`,
    // A submission with an Idempotency-Key or a document holds a connection while Kafka acknowledges.
    maxConnections: DATABASE_CONNECTIONS,
    onError: (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects'),
  });

  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...new Set(registry.get().services.map((s) => topics.message(s.code))), topics.events], config.topicPartitions);
  // A service added to the registry is offered at once: its topic is made now (the broker
  // creates none by itself). The runner hosting its connector reads it once restarted.
  registry.onChange((next, previous) => {
    const known = new Set(previous.services.map((s) => s.code));
    const added = [...new Set(next.services.filter((s) => !known.has(s.code)).map((s) => topics.message(s.code)))];
    if (added.length === 0) return;
    ensureTopics(admin, added, config.topicPartitions).then(
      () => log.info({ topics: added }, 'registry change: topics of new services created'),
      (err: Error) => log.error({ topics: added, err: err.message }, 'registry change: topics of new services could not be created; submissions to them fail until they exist'),
    );
  });

  const producer = new BatchingProducer(kafka, () => signingKeys.record.signingKey, {
    lingerMs: config.producerLingerMs,
    maxBatch: config.producerMaxBatch,
    // A client waiting for its 202 learns within this long that Kafka does not answer.
    acknowledgementTimeoutMs: config.produceTimeoutMs,
    ttlSeconds: config.messageTtlSeconds,
  });
  await producer.connect();
  const metrics = createMetricsRegistry('gateway');
  producerMetrics(metrics, producer);

  const store = new MessageStore(db);
  // A client's rate limit counts its requests on every gateway (shared-rate-limit.ts).
  const rateCounts = new ClusterRateCounts(db, instanceId, log, RATE_LIMIT_WINDOW_MS);

  const ctx = {
    config,
    log,
    catalogue,
    registry: registry.get,
    latestRegistry: registry.latest,
    signingKeys,
    publicKeys,
    payloads,
    producer,
    topics,
    db,
    store,
    metrics,
    // Requests from different clients share a statement: one client's value PostgreSQL refuses
    // fails that client's request alone. While submissions keep coming a batch waits
    // acceptLingerMs for company, and the Kafka produce behind it carries the same messages: at
    // moderate rates one statement and one produce per message otherwise (batched-writer.ts).
    acceptedRows: new BatchedWriter<BusEvent>((events) => store.recordAccepted(events), { failsAlone: isDataError, busyLingerMs: config.acceptLingerMs }),
    // The issuer written with or without a trailing slash is one audience: client libraries
    // differ in how they write it (RFC 7523 only says the aud identifies this server).
    clientAuth: new ClientAuthenticator(registry.get, assertionAudiences(config.issuer), new AssertionReplayCache(db), registry, registry.latest),
    tokenVerifier: new AccessTokenVerifier(publicKeys.resolver('token'), config.issuer, registry),
    audit: new RejectionAudit(producer, topics, log, config.refusalAuditIntervalMs),
    submissionHooks: [],
    heldTransactions: new ConcurrencyLimit(HELD_TRANSACTIONS, Infinity, () => problems.submissionsBusy(HELD_TRANSACTION_WAIT_MS), HELD_TRANSACTION_WAIT_MS),
    rateCounts,
  };
  const app = await buildGatewayApp(ctx, opts.modules, metrics, {
    kafka: kafkaReadiness(admin),
    registry: async () => registry.readiness(),
    database: async () => {
      try {
        await db.query('SELECT 1');
        return { ok: true, detail: 'PostgreSQL reachable' };
      } catch (err) {
        return { ok: false, detail: `PostgreSQL unreachable: ${(err as Error).message}` };
      }
    },
  });
  // Expired Idempotency-Keys go away; every gateway sweeps, a no-op when another just did.
  const sweep = setInterval(() => void store.sweepIdempotency().catch(() => undefined), 10 * 60_000);
  sweep.unref();
  rateCounts.start();
  const stop = async () => {
    await app.close();
    await rateCounts.stop();
    ctx.audit.close();
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    clearInterval(sweep);
    await db.close();
  };
  let url: string;
  try {
    url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  } catch (err) {
    // A port taken meanwhile: what is already open (Kafka, PostgreSQL) must not keep the process alive.
    await stop().catch(() => undefined);
    throw err;
  }
  log.info({ url }, 'gateway listening');

  return { app, url, stop };
}
