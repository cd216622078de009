// The audit service (DESIGN §6): reads the bus itself — every message record on lgsp.msg.* (the
// acceptance) and every event on lgsp.events (outcomes, statuses, rejections, operator actions)
// — and appends each to the hash-chained store in PostgreSQL with the record's signature, signs the chain head periodically, and serves the operators' query and
// integrity API. Run two or more: the one holding the leader lock (audit-leadership.ts)
// consumes and writes; the others serve queries and take over within seconds if it dies.
// Used by main.ts, by `npm start` and by tests (which start it in-process).
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Admin, Consumer } from 'kafkajs';
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { v5 as uuidv5 } from 'uuid';
import type { BusConfig } from '../platform/config.js';
import { BUS_EVENT_NAMES, type BusEvent } from '../platform/bus-events.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { openServiceKeys } from '../platform/key-files.js';
import { PublicKeyset } from '../platform/public-keyset.js';
import { busRecordVerifier } from '../platform/record-writers.js';
import { createKafka, ensureTopics } from '../platform/kafka-transport.js';
import { kafkaReadiness } from '../platform/kafka-readiness.js';
import { withCommonResponses } from '../platform/openapi-common-responses.js';
import { withDocumentedAnswers } from '../platform/openapi-answers.js';
import { withOpenObjects } from '../platform/openapi-open-objects.js';
import { okResponse, problemResponsesWithCodes } from '../platform/openapi-shapes.js';
import { auditAnswers } from './openapi-answers.js';
import { topicsFor } from '../platform/topics.js';
import { AccessTokenVerifier } from '../platform/access-token.js';
import { startSignedConsumer, type ConsumedRecord } from '../platform/signed-consumer.js';
import { createMetricsRegistry, serviceHealth, type ReadinessCheck } from '../platform/service-health.js';
import { problemHandler } from '../platform/problem-handler.js';
import { finiteRequestNumbers } from '../platform/finite-request-numbers.js';
import { SERVICE_SERVER_OPTIONS } from '../platform/service-server-options.js';
import { canonicalId } from '../platform/uuid7.js';
import { DOCUMENTED_TIME_BOUND_SCHEMA, timeWindow } from '../platform/time-bound.js';
import { bearerAuth } from '../platform/bearer-auth.js';
import { openDatabase, type Database } from '../platform/database.js';
import { AuditLeadership } from './audit-leadership.js';
import { BatchedWriter } from '../platform/batched-writer.js';
import { checkpointPublisher, readPublishedCheckpointsFrom, type CheckpointPublisher } from './checkpoint-topic.js';
import { lastSealRow, writeSeal } from './verification-seal.js';
import { AuditStore, DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT, auditEventProblem, type AuditQuery } from './audit-store.js';
import { verifyAuditChain, type ChainVerification, type PassEnd } from './chain-verifier.js';
import { evidenceOf, type EvidencedEvent } from './record-evidence.js';
import type { Envelope } from '../platform/envelope.js';
import { SchemaCatalogue } from '../platform/schema-catalogue.js';
import { LiveRegistry, StandingUntilValid, type ClientStanding } from '../platform/live-registry.js';
import { trustProxyOption } from '../platform/trusted-proxies.js';
import { withPublicOperationsSaid } from '../platform/openapi-public-operations.js';
import { batchOffsets, mergeOffsets, type PartitionOffset } from '../platform/read-model-offsets.js';
import { catchUpMetrics } from '../platform/kafka-metrics.js';

export interface RunningAuditService {
  app: FastifyInstance;
  url: string;
  store: AuditStore;
  /** Whether this instance currently writes the chain. */
  isLeader(): boolean;
  stop(): Promise<void>;
}

/** How often the leader looks for work topics created since it subscribed. */
const WORK_TOPIC_WATCH_MS = 5000;

/** Partitions the audit consumer handles at once (work topics and events together). */
const AUDIT_CONCURRENT_PARTITIONS = 32;

/**
 * How long the integrity check waits for the checkpoints published on Kafka (for the first, then
 * for each next one) before it answers from the database alone (saying so): a healthy broker
 * takes a second or two to the first (a throwaway group's join), and an operator's integrity box
 * should not wait out a broker that is down.
 */
const PUBLISHED_CHECKPOINTS_READ_MS = 8000;

/** The audit consumer's Kafka session: a crashed leader's partitions move to its successor after at most this long. */
const LEADER_SESSION_TIMEOUT_MS = 8000;

// Namespace for the ids of 'rejected' entries made from records that could not be trusted. The
// id is derived from where the record sat in Kafka and what it held, so a redelivered record
// dedupes like any other event instead of being recorded twice.
const REJECTED_RECORD_NAMESPACE = 'a5e0c7d2-4f0b-5c1e-9b6a-3d8f2e71c4b9';

function valueDigest(value: Buffer | null): string | undefined {
  return value ? 'sha-256=' + createHash('sha256').update(value).digest('base64') : undefined;
}

/**
 * The 'accepted' entry a message record becomes: the record is the acceptance. It keeps the
 * envelope's routing fields and payloadDigest, never the payload. Its id is the message id, so
 * the same record read again (or replayed onto the topic) is one entry.
 */
function acceptedEvent(parsed: unknown): BusEvent | string {
  const problem = envelopeProblem(parsed);
  if (problem) return problem;
  const env = parsed as Envelope;
  return {
    id: env.id,
    event: 'accepted',
    at: env.time,
    actor: 'gateway',
    messageId: env.id,
    type: env.type,
    from: env.from,
    to: env.to,
    correlationId: env.correlationId,
    payloadDigest: env.payloadDigest,
  };
}

function envelopeProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const env = value as Partial<Envelope>;
  if (typeof env.id !== 'string' || typeof env.type !== 'string' || typeof env.time !== 'string' || typeof env.payloadDigest !== 'string') {
    return 'not an envelope (id, type, time and payloadDigest are required)';
  }
  if (typeof env.from?.member !== 'string' || typeof env.to?.member !== 'string') return 'not an envelope (from and to are required)';
  return null;
}

/**
 * The audit entry a consumed record becomes: a message record (lgsp.msg.*) its 'accepted'
 * entry, an event record the event itself; either keeps the record's signature and proof
 * (record-evidence.ts). A record that fails verification, or that is signed but is not a usable
 * event, is never dropped: it becomes a 'rejected' entry of the audit service's own, carrying
 * where the record was and a digest of its bytes, and nothing the record claimed about itself
 * (none of that can be trusted).
 */
export function auditEventFromRecord(record: ConsumedRecord, now: Date = new Date(), isMessageTopic: (topic: string) => boolean = () => false): { event: BusEvent; rejectedReason?: string } {
  let reason: string;
  const message = isMessageTopic(record.topic);
  if (!record.verification.ok) {
    reason = `unverified ${message ? 'message' : 'event'} record: ${record.verification.reason}`;
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(record.value!.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    // An event is checked as it was read; an accepted entry, made from the envelope, is checked as made.
    const entry = parsed === undefined ? 'not JSON' : message ? acceptedEvent(parsed) : auditEventProblem(parsed) ?? (parsed as BusEvent);
    const problem = typeof entry === 'string' ? entry : message ? auditEventProblem(entry) : null;
    if (!problem) {
      const evidence = evidenceOf(record, !message);
      return { event: { ...(entry as BusEvent), ...(evidence ? { record: evidence } : {}) } as EvidencedEvent };
    }
    reason = `malformed ${message ? 'message' : 'event'} record: ${problem}`;
  }
  const digest = valueDigest(record.value);
  const event: BusEvent = {
    id: uuidv5(`${record.topic}/${record.partition}/${record.offset}/${digest ?? 'null'}`, REJECTED_RECORD_NAMESPACE),
    event: 'rejected',
    at: now.toISOString(),
    actor: 'audit',
    detail: {
      stage: 'audit',
      reason,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      ...(digest ? { valueDigest: digest } : {}),
    },
  };
  return { event, rejectedReason: reason };
}

function auditMetrics(metrics: MetricsRegistry, store: AuditStore, startedAt: number) {
  new Gauge({
    name: 'lgsp_audit_chain_length',
    help: 'Entries in the audit hash chain (seq of the chain head)',
    registers: [metrics],
    async collect() {
      this.set((await store.head())?.seq ?? 0);
    },
  });
  new Gauge({
    name: 'lgsp_audit_checkpoint_age_seconds',
    help: 'Seconds since the chain head was last signed (since service start if never; 0 while the chain is empty). Checkpoints are only written when the head moves, so this grows on an idle bus; alert on it together with lgsp_audit_unsigned_entries > 0',
    registers: [metrics],
    async collect() {
      const last = await store.lastCheckpoint();
      if (!last && !(await store.head())) return this.set(0); // nothing to sign yet
      const since = last ? Date.parse(last.signedAt) : startedAt;
      this.set(Math.max(0, (Date.now() - since) / 1000));
    },
  });
  new Gauge({
    name: 'lgsp_audit_unsigned_entries',
    help: 'Entries appended after the last checkpoint (their deletion would not be detectable yet)',
    registers: [metrics],
    async collect() {
      this.set(((await store.head())?.seq ?? 0) - ((await store.lastCheckpoint())?.seq ?? 0));
    },
  });
  return {
    records: new Counter({
      name: 'lgsp_audit_records_total',
      help: 'Consumed audit records: appended to the chain, or duplicate (redelivered, already in the chain)',
      labelNames: ['outcome'],
      registers: [metrics],
    }),
    rejected: new Counter({
      name: 'lgsp_audit_rejected_records_total',
      help: 'Consumed audit records that were unverified or malformed and became rejected entries',
      registers: [metrics],
    }),
  };
}

const eventsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    messageId: { type: 'string', minLength: 1, maxLength: 200 },
    member: { type: 'string', minLength: 1, maxLength: 100, description: 'Sending or receiving member code' },
    type: { type: 'string', minLength: 1, maxLength: 200, description: 'Message type, or a family of them (edoc.*)' },
    // An unknown name (a typo) is refused with the names allowed, not answered with an empty page.
    event: { type: 'string', enum: [...BUS_EVENT_NAMES], description: `Event name: ${BUS_EVENT_NAMES.join(', ')}` },
    from: { ...DOCUMENTED_TIME_BOUND_SCHEMA, description: 'Event time lower bound, inclusive (ISO 8601; a bare date is UTC midnight)' },
    to: { ...DOCUMENTED_TIME_BOUND_SCHEMA, description: 'Event time upper bound, exclusive (ISO 8601; a bare date is UTC midnight)' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_QUERY_LIMIT, default: DEFAULT_QUERY_LIMIT },
    before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Cursor: nextBefore of the previous page' },
  },
};

interface AuditAppContext {
  config: BusConfig;
  log: Logger;
  store: AuditStore;
  tokenVerifier: AccessTokenVerifier;
  /** `full`: every entry, even of a long chain that a seal covers. */
  verifyChain: (full?: boolean) => Promise<ChainVerification>;
}

async function buildAuditApp(ctx: AuditAppContext, metrics: MetricsRegistry, checks: Record<string, ReadinessCheck>): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    bodyLimit: ctx.config.maxBodyBytes,
    ...SERVICE_SERVER_OPTIONS,
    logController: new LogController({ disableRequestLogging: ctx.config.logLevel !== 'debug' && ctx.config.logLevel !== 'trace' }),
    trustProxy: trustProxyOption(ctx.config.trustedProxies),
    // An unknown (e.g. misspelt) filter must be an error, not silently dropped: an auditor
    // would otherwise read an unfiltered page as the answer to the question asked.
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  await app.register(problemHandler, { maxBodyBytes: ctx.config.maxBodyBytes, openapiPath: '/openapi.json' });
  await app.register(finiteRequestNumbers);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'LGSP bus audit API', version: '1.0.0', description: 'Query the hash-chained audit log and check its integrity.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // The precise schemas of the success answers (openapi-answers.ts: the document's only), the
    // answers every operation can give, and operationIds (openapi-common-responses.ts: no 429, the
    // audit service registers no rate limit); objects that name no members said to be open
    // (openapi-open-objects.ts).
    transformObject: (document) => ('openapiObject' in document ? withPublicOperationsSaid(withOpenObjects(withCommonResponses(withDocumentedAnswers(document.openapiObject, auditAnswers)))) : document.swaggerObject),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(bearerAuth, { verifier: ctx.tokenVerifier });
  await app.register(serviceHealth, { metrics, checks });

  app.get<{ Querystring: AuditQuery }>('/v1/audit/events', {
    config: { roles: ['operator', 'observer'] },
    schema: {
      tags: ['audit'],
      summary: 'Audit entries, newest first, filtered by message, member, type, event and time',
      security: [{ bearer: [] }],
      querystring: eventsQuerySchema,
      // 403: an agency system's token (operators and observers only); 503: PostgreSQL, where the chain is, does not answer.
      response: { ...okResponse('`{entries: [{seq, recordedAt, prevHash, hash, event}], nextBefore}`: `nextBefore` is the `before` of the next page, null on the last'), ...problemResponsesWithCodes({ 403: ['ROLE_REQUIRED'], 503: ['STATE_UNAVAILABLE'] }) },
    },
  }, async (req) => {
    // A bare date is UTC midnight here (the console sends its operator's day with the zone).
    return await ctx.store.query({ ...req.query, ...(req.query.messageId === undefined ? {} : { messageId: canonicalId(req.query.messageId) }), ...timeWindow(req.query.from, req.query.to, 'Z') });
  });

  app.get<{ Querystring: { full?: boolean } }>('/v1/audit/integrity', {
    config: { roles: ['operator', 'observer'] },
    schema: {
      tags: ['audit'],
      summary: 'Chain head, last signed checkpoint, and a fresh verification of the chain (of a long chain, from the seal of its last full pass)',
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { full: { type: 'boolean', default: false, description: 'Verify every entry even of a chain longer than LGSP_AUDIT_FULL_VERIFY_MAX_ENTRIES (its time grows with the log: about 20 µs an entry)' } },
      },
      response: { ...okResponse('`{head, lastCheckpoint, verification: {ok, scope, sealed?, entries, checkpoints, signedThrough, published?, publishedUnreadable?, firstBad?}}`: the chain and its stored checkpoints, and the copies of the checkpoints published on Kafka (`published`; `publishedUnreadable` says why they could not be read)'), ...problemResponsesWithCodes({ 400: ['VALIDATION_FAILED'], 403: ['ROLE_REQUIRED'], 503: ['STATE_UNAVAILABLE'] }) },
    },
  }, async (req) => {
    // Read before verifying: the verification then covers at least this head.
    const head = await ctx.store.head();
    const lastCheckpoint = await ctx.store.lastCheckpoint();
    const verification = await ctx.verifyChain(req.query.full === true);
    return { head, lastCheckpoint, verification };
  });
  return app;
}

/**
 * The registry, followed as it changes (live-registry.ts). When the file is there but not valid at
 * start (an audit restarted during a bad edit), tokens are checked against the clients it lists
 * until it is valid, then against the registry (StandingUntilValid); only without a registry
 * file at all do tokens stand on their signature alone. Without a registry the audit reads the
 * work topics that exist. It names the work topics to make before subscribing; topics made later
 * (a service added) are found by the leader's topic watch, so no registry change needs an audit restart.
 */
function liveRegistry(config: BusConfig, log: Logger): { registry?: LiveRegistry; standing?: ClientStanding } {
  let catalogue: SchemaCatalogue | undefined;
  try {
    catalogue = new SchemaCatalogue().loadConnectors(config);
    const registry = LiveRegistry.watching(config.registryFile, catalogue, log);
    return { registry, standing: registry };
  } catch (err) {
    if (catalogue && existsSync(config.registryFile)) {
      log.error({ err: (err as Error).message }, 'registry not valid: tokens are checked against its list of systems only until it is; auditing the work topics that exist now');
      return { standing: StandingUntilValid.watching(config.registryFile, catalogue, log) };
    }
    log.warn({ err: (err as Error).message }, 'no registry: tokens are not checked against the registry\'s clients; auditing the work topics that exist now');
    return {};
  }
}

export async function startAuditService(config: BusConfig, opts: { port?: number; host?: string } = {}): Promise<RunningAuditService> {
  const log = createLogger('audit', config.logLevel);
  const startedAt = Date.now();
  // Its checkpoint key only: it writes no bus records and issues no tokens.
  const signingKeys = await openServiceKeys(config.keysDir, 'audit', ['checkpoint'] as const, log);
  const publicKeys = PublicKeyset.open(config.jwksFile, { graceSeconds: config.keyGraceSeconds, log });
  const topics = topicsFor(config.topicPrefix);
  const kafka = createKafka('lgsp-audit', config, 'audit', log);

  let admin: Admin | null = null;
  let db: Database | null = null;
  let app: FastifyInstance | null = null;
  let leadership: AuditLeadership | null = null;
  let publisher: CheckpointPublisher | null = null;
  try {
    const connectedAdmin = (admin = kafka.admin());
    await connectedAdmin.connect();
    // The registry's work topics and the event topic exist before the subscription; work topics
    // created later (another registry, a new service) are found by the leader's topic watch.
    const { registry, standing } = liveRegistry(config, log);
    await ensureTopics(admin, [...new Set((registry?.get().services ?? []).map((s) => topics.message(s.code))), topics.events], config.topicPartitions);
    // One partition: the checkpoints stay in the order they were signed.
    await ensureTopics(admin, [topics.auditCheckpoints], 1);
    const published = (publisher = await checkpointPublisher(kafka, topics.auditCheckpoints));
    db = await openDatabase(config.databaseUrl, { applicationName: 'lgsp-audit', onError: (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost; the pool reconnects') });
    const database = db;
    const auditStore = new AuditStore(database);

    const metrics = createMetricsRegistry('audit');
    const counters = auditMetrics(metrics, auditStore, startedAt);
    const onCatchUp = catchUpMetrics(metrics)('audit');
    // Prefixed like the topics, so separate buses on one cluster do not share a group.
    const groupId = `${config.topicPrefix}lgsp-audit`;
    // One chain append in flight; the partitions' batches arriving meanwhile go in the next, with
    // where each partition's batch ended (read_model_offsets: a database restored from an older
    // dump says where to read on from, restore-catch-up.ts).
    const appender = new BatchedWriter<{ events: BusEvent[]; offsets: PartitionOffset[] }>(async (batches) => {
      const events = batches.flatMap((b) => b.events);
      const appended = await auditStore.appendBatch(events, { consumer: groupId, offsets: mergeOffsets(batches.flatMap((b) => b.offsets)) });
      counters.records.inc({ outcome: 'appended' }, appended);
      counters.records.inc({ outcome: 'duplicate' }, events.length - appended);
    });

    // Checkpoints run one at a time, so two never sign the same head.
    let checkpointChain: Promise<void> = Promise.resolve();
    const checkpointNow = (): Promise<void> =>
      (checkpointChain = checkpointChain
        .then(async () => {
          const cp = await auditStore.checkpoint(signingKeys.checkpoint.signingKey);
          if (!cp) return;
          log.debug({ seq: cp.seq }, 'audit checkpoint signed');
          // Kept outside the database too; one that fails to publish is covered by the next.
          await published.publish(cp.jws);
        })
        .catch((err: Error) => log.error({ err: err.message }, 'audit checkpoint failed')));

    // What only the leader runs: the consumer that appends, the checkpoint timer and the full verification's.
    let consumer: Consumer | null = null;
    let checkpointTimer: NodeJS.Timeout | null = null;
    let fullVerifyTimer: NodeJS.Timeout | null = null;
    let consumerFailure: string | null = null;
    let topicWatch: NodeJS.Timeout | null = null;
    // The work topics being read; a service created later (its topic made by a gateway or
    // runner after this subscribed) is picked up by subscribing again.
    let reading = new Set<string>();
    const workTopicsNow = async () => (await connectedAdmin.listTopics()).filter((name) => topics.messagePattern.test(name));
    const startConsumer = async () => {
      consumerFailure = null;
      reading = new Set(await workTopicsNow());
      consumer = await startSignedConsumer({
        kafka,
        groupId,
        topics: [...reading, topics.events],
        verifier: busRecordVerifier(publicKeys, topics, { enforceExpiry: false }),
        // The audit log is not on a latency path: larger fetches, fewer commits.
        maxWaitTimeInMs: 500,
        minBytes: 64 * 1024,
        // A re-read event is skipped (the chain dedupes by event id): one commit a second.
        commitIntervalMs: 1000,
        // kafkajs hands a fetch over one partition at a time; handled at once, the partitions'
        // batches go into the chain together (appender): one statement per fetch instead of one
        // per partition (it was 0.3 statements per message, the audit being PostgreSQL's busiest
        // writer). Order across partitions was never defined; within one it holds.
        partitionsConsumedConcurrently: AUDIT_CONCURRENT_PARTITIONS,
        sessionTimeoutMs: LEADER_SESSION_TIMEOUT_MS,
        // An event already in the chain is skipped by its id, so reading again after a restore adds only what the dump lacked.
        storedOffsets: { db: database, onCatchUp },
        log,
        handleBatch: async (records) => {
          const now = new Date();
          const events: BusEvent[] = [];
          let rejected = 0;
          for (const record of records) {
            const { event, rejectedReason } = auditEventFromRecord(record, now, (topic) => topics.serviceOf(topic) !== null);
            if (rejectedReason) {
              rejected++;
              log.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason: rejectedReason }, 'audit record recorded as rejected');
            }
            events.push(event);
          }
          counters.rejected.inc(rejected);
          await appender.write([{ events, offsets: batchOffsets(records) }]);
        },
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) consumerFailure = e.payload.error.message;
        log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'audit consumer crashed');
      });
    };
    let resubscribing: Promise<void> | null = null;
    const readNewWorkTopics = async () => {
      if (!consumer || resubscribing) return;
      const now = await workTopicsNow();
      if (!consumer || now.every((name) => reading.has(name))) return;
      log.info({ topics: now.filter((name) => !reading.has(name)) }, 'new work topics: the audit reads them too');
      await (resubscribing = (async () => {
        await consumer?.disconnect().catch(() => undefined);
        await startConsumer();
      })().finally(() => {
        resubscribing = null;
      }));
    };
    const startWriting = async () => {
      await startConsumer();
      checkpointTimer = setInterval(() => void checkpointNow(), config.checkpointIntervalMs);
      checkpointTimer.unref();
      // What a check from a seal cannot see (an entry edited in place, its hash kept) a full pass does.
      fullVerifyTimer = setInterval(() => void verifyChain(true).catch((err: Error) => log.warn({ err: err.message }, 'the full verification of the audit chain did not finish')), config.auditFullVerifyIntervalMs);
      fullVerifyTimer.unref();
      topicWatch = setInterval(() => void readNewWorkTopics().catch((err: Error) => log.warn({ err: err.message }, 'could not look for new work topics')), WORK_TOPIC_WATCH_MS);
      topicWatch.unref();
    };
    const stopWriting = async () => {
      if (checkpointTimer) clearInterval(checkpointTimer);
      checkpointTimer = null;
      if (fullVerifyTimer) clearInterval(fullVerifyTimer);
      fullVerifyTimer = null;
      if (topicWatch) clearInterval(topicWatch);
      topicWatch = null;
      await resubscribing?.catch(() => undefined);
      // The consumer finishes its current batch first; after that the head no longer moves here.
      await consumer?.disconnect().catch(() => undefined);
      consumer = null;
      await checkpointNow();
    };
    const lead = (leadership = new AuditLeadership(config.databaseUrl, log, { onElected: startWriting, onDeposed: stopWriting }));
    lead.start();

    // Concurrent integrity requests share one pass over the chain. Like `lgsp audit verify`, it
    // checks the chain against the checkpoints published on Kafka too: a tail cut together with
    // its stored checkpoints (or a database restored from an older dump) looks whole from the
    // database alone, and the console's integrity box said 'intact' where the CLI said TAMPERED.
    // Kafka is read first: every checkpoint on it was stored before it was published, so the
    // database snapshot taken after covers it. A Kafka that cannot be read leaves the database's
    // verdict, with why the copies were not checked (publishedUnreadable).
    //
    // A chain longer than auditFullVerifyMaxEntries is checked from the seal of the last full pass
    // that still holds (chain-verifier.ts), so the check's time follows what was appended since;
    // `full` (the leader's timer, `?full=true`) reads every entry. A full pass that finds a long
    // chain intact, the published copies read too, is sealed: a pass that could not read them may
    // have missed a cut tail, and a seal would carry that forward.
    const verifying = new Map<boolean, Promise<ChainVerification>>();
    const sealIntact = async (reached: PassEnd, publishedOffset: string) => {
      if (reached.seq <= config.auditFullVerifyMaxEntries) return; // every check reads it all anyway
      try {
        if ((await lastSealRow(database))?.seq === reached.seq) return;
        await writeSeal(database, signingKeys.checkpoint.signingKey, { ...reached, publishedOffset });
        log.info({ seq: reached.seq }, 'audit chain verified in full and sealed');
      } catch (err) {
        log.error({ err: (err as Error).message }, 'could not seal the full verification (the next check starts from an earlier seal)');
      }
    };
    /** The checkpoints published on Kafka from `offset` on, or why they could not be read. */
    const readPublished = async (offset: string): Promise<{ checkpoints: string[]; end: string } | { unreadable: string }> => {
      try {
        return await readPublishedCheckpointsFrom(kafka, topics.auditCheckpoints, config.topicPrefix, PUBLISHED_CHECKPOINTS_READ_MS, offset);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'integrity check: the published checkpoints could not be read; the database checked alone');
        return { unreadable: `cannot read the checkpoints published on Kafka (topic ${topics.auditCheckpoints}): ${(err as Error).message}` };
      }
    };
    const pass = async (full: boolean): Promise<ChainVerification> => {
      // A long chain's check starts from the last seal and reads the published copies after it
      // (the verifier falls back to a full pass when that seal no longer holds).
      const seal = full || ((await auditStore.head())?.seq ?? 0) <= config.auditFullVerifyMaxEntries ? null : await lastSealRow(database);
      const read = await readPublished(seal?.published_offset ?? '0');
      const published = 'checkpoints' in read ? read.checkpoints : undefined;
      const result = await verifyAuditChain(database.pool, publicKeys.resolver('checkpoint', { archive: true }), publicKeys.lookup('record', { archive: true }), published, {
        fullUpTo: full ? undefined : config.auditFullVerifyMaxEntries,
        seal: seal ?? undefined,
        // Only a pass that read the published copies from the start (see above).
        onIntact: 'end' in read && !seal ? (reached) => sealIntact(reached, read.end) : undefined,
      });
      // The seal did not hold (tampering): that full pass saw only the copies published after it.
      if (seal && result.scope === 'full' && 'checkpoints' in read) return pass(true);
      if (!result.ok) log.error({ firstBad: result.firstBad }, 'audit chain verification found tampering');
      return 'unreadable' in read ? { ...result, publishedUnreadable: read.unreadable } : result;
    };
    const verifyChain = (full = false): Promise<ChainVerification> => {
      const running = verifying.get(full);
      if (running) return running;
      const verification = pass(full).finally(() => verifying.delete(full));
      verifying.set(full, verification);
      return verification;
    };

    const kafkaCheck = kafkaReadiness(admin);
    app = await buildAuditApp({ config, log, store: auditStore, tokenVerifier: new AccessTokenVerifier(publicKeys.resolver('token'), config.issuer, standing), verifyChain }, metrics, {
      kafka: async () => (consumerFailure ? { ok: false, detail: `audit consumer stopped: ${consumerFailure}` } : kafkaCheck()),
      store: async () => ({ ok: true, detail: `${(await auditStore.head())?.seq ?? 0} entries; ${lead.isLeader ? 'leader (writes the chain)' : 'standby'}` }),
    });
    const url = await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
    log.info({ url }, 'audit service listening');

    const runningApp = app;
    const runningAdmin = admin;
    let stopping: Promise<void> | null = null;
    return {
      app: runningApp,
      url,
      store: auditStore,
      isLeader: () => lead.isLeader,
      stop: () =>
        (stopping ??= (async () => {
          await runningApp.close();
          // Stepping down stops the consumer and signs the final head before the lock goes.
          await lead.stop();
          await Promise.allSettled(verifying.values());
          await runningAdmin.disconnect().catch(() => undefined);
          await published.disconnect().catch(() => undefined);
          await database.close();
          log.info('audit service stopped');
        })()),
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await leadership?.stop().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await publisher?.disconnect().catch(() => undefined);
    await db?.close().catch(() => undefined);
    throw err;
  }
}
