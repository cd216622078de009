// Wires a gateway: registry, keys, Kafka producer, status consumer and the HTTP app.
// Used by main.ts, by `npm start` and by tests (which start it in-process).
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Consumer } from 'kafkajs';
import type { BusConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { SchemaCatalogue } from '../platform/schema-catalogue.js';
import { Registry } from '../platform/registry.js';
import { PlatformKeystore } from '../platform/keystore.js';
import { BatchingProducer, createKafka, ensureTopics } from '../platform/kafka-transport.js';
import { topicsFor } from '../platform/topics.js';
import { AccessTokenVerifier } from '../platform/access-token.js';
import { RecordVerifier } from '../platform/record-signing.js';
import { startSignedConsumer } from '../platform/signed-consumer.js';
import { createMetricsRegistry } from '../platform/service-health.js';
import { consumerMetrics, producerMetrics } from '../platform/kafka-metrics.js';
import type { BusEvent } from '../platform/bus-events.js';
import { MessageStore } from './message-store.js';
import { ClientAuthenticator } from './client-authentication.js';
import { RejectionAudit } from './rejection-audit.js';
import { buildGatewayApp } from './app.js';
import { kafkaReadiness } from '../platform/kafka-readiness.js';

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function startGateway(config: BusConfig, opts: { port?: number; host?: string; instanceId?: string } = {}): Promise<RunningGateway> {
  const log = createLogger('gateway', config.logLevel);
  const instanceId = opts.instanceId ?? 'gw1';
  const catalogue = new SchemaCatalogue().loadConnectors(config);
  for (const f of catalogue.failedManifests) log.warn({ connector: f.name, err: f.error }, 'connector manifest refused: its message types are not offered');
  const registry = Registry.load(config.registryFile, catalogue);
  const keystore = await PlatformKeystore.open(config.keysFile);
  const topics = topicsFor(config.topicPrefix);
  const kafka = createKafka(`lgsp-gateway-${instanceId}`, config.kafkaBrokers, log);

  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...new Set(registry.services.map((s) => topics.message(s.code))), topics.events, topics.audit], config.topicPartitions);

  const producer = new BatchingProducer(kafka, () => keystore.signingKey, {
    lingerMs: config.producerLingerMs,
    maxBatch: config.producerMaxBatch,
    ttlSeconds: config.messageTtlSeconds,
  });
  await producer.connect();
  const metrics = createMetricsRegistry('gateway');
  producerMetrics(metrics, producer);
  const countConsumed = consumerMetrics(metrics);

  const store = new MessageStore(join(config.dataDir, `gateway-${instanceId}.db`));
  const statusConsumer: Consumer = await startSignedConsumer({
    kafka,
    groupId: `${config.topicPrefix}lgsp-gateway-status-${instanceId}`,
    topics: [topics.events],
    // Status views tolerate a fraction of a second; fewer, larger fetches save CPU.
    maxWaitTimeInMs: 200,
    minBytes: 16 * 1024,
    verifier: new RecordVerifier(keystore.publicKeyLookup(), { enforceExpiry: false }),
    log,
    handleBatch: async (records) => {
      const events: BusEvent[] = [];
      for (const r of records) {
        if (!r.verification.ok) {
          log.warn({ topic: r.topic, offset: r.offset, reason: r.verification.reason }, 'ignoring unverified status event');
          continue;
        }
        events.push(JSON.parse(r.value!.toString()) as BusEvent);
      }
      store.applyEvents(events);
      countConsumed('status', records.length);
    },
  });

  const ctx = {
    config,
    log,
    catalogue,
    registry: () => registry,
    keystore,
    producer,
    topics,
    store,
    clientAuth: new ClientAuthenticator(() => registry, [config.issuer, `${config.issuer}/v1/token`]),
    tokenVerifier: new AccessTokenVerifier(keystore.keyResolver(), config.issuer),
    audit: new RejectionAudit(producer, topics, log, config.refusalAuditIntervalMs),
  };
  const app = await buildGatewayApp(ctx, metrics, {
    kafka: kafkaReadiness(admin),
    registry: async () => ({ ok: registry.members.length > 0, detail: `${registry.members.length} members, ${registry.services.length} services` }),
  });
  const url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  log.info({ url }, 'gateway listening');

  return {
    app,
    url,
    async stop() {
      await app.close();
      ctx.audit.close();
      await statusConsumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      store.close();
    },
  };
}
