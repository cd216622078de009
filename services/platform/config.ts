// Validated configuration shared by every service. Values come from an optional JSON file
// (LGSP_CONFIG) overlaid by environment variables, so the same build runs on a laptop and
// in a cluster. Anything invalid stops the service at start with a message naming the key.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { isAddressOrRange } from './trusted-proxies.js';

/** How a service reaches Kafka (kafka-security.ts turns these into kafkajs ssl/sasl options). */
export interface KafkaSettings {
  kafkaBrokers: string[];
  /** PEM bundle of the CA(s) that signed the brokers' certificates; empty = the system's trusted CAs. */
  kafkaSslCaFile: string;
  kafkaSaslMechanism: 'scram-sha-512' | 'scram-sha-256';
  /** One principal for the whole process (a deployed service); wins over kafkaCredentialsDir. */
  kafkaSaslUsername: string;
  kafkaSaslPassword: string;
  /** A directory of `<principal>.json` files ({ username, password }): each service picks its own. */
  kafkaCredentialsDir: string;
  /** Plaintext, unauthenticated Kafka: a development broker only (LGSP_KAFKA_PLAINTEXT=1). */
  kafkaPlaintext: boolean;
}

export interface BusConfig extends KafkaSettings {
  dataDir: string;
  /** PostgreSQL holding the state every instance shares (postgres://user@host:port/db). */
  databaseUrl: string;
  topicPrefix: string;
  topicPartitions: number;
  registryFile: string;
  /** Private signing keys: <keysDir>/<service>/<purpose>.json; a service reads only its own directory. */
  keysDir: string;
  /** The public keyset (JWKS with each key's purpose and owner) every verifier reads. */
  jwksFile: string;
  /** How long a superseded key still verifies tokens, records on their way and deliveries. */
  keyGraceSeconds: number;
  issuer: string;
  logLevel: string;
  maxBodyBytes: number;
  /** Bytes of request bodies a gateway holds at once; past it requests get 503 GATEWAY_BUSY. */
  maxInflightBodyBytes: number;
  /** A gateway connection silent this long is closed (a stalled body gives its bytes back); above the longest reply wait. */
  connectionIdleTimeoutMs: number;
  tokenTtlSeconds: number;
  messageTtlSeconds: number;
  rateLimitPerMinute: number;
  /** Token requests per minute from one network address, counted before the body is read. */
  tokenRateLimitPerMinute: number;
  /** Refused token requests are audited as counts per client and address over this interval. */
  refusalAuditIntervalMs: number;
  producerLingerMs: number;
  producerMaxBatch: number;
  /** Gateway: while submissions keep coming, an idle accepted-rows writer waits this long for company (BatchedWriter busyLingerMs). */
  acceptLingerMs: number;
  /** A gateway answers 503 BUS_UNAVAILABLE when Kafka has not acknowledged a submission within this long. */
  produceTimeoutMs: number;
  /** Delivery attempts before dead-lettering; 0: no limit, the time budget (retryMaxAgeSeconds) decides. */
  retryMaxAttempts: number;
  /** How long a message is retried, from its acceptance, before it is dead-lettered. */
  retryMaxAgeSeconds: number;
  /**
   * How long after its acceptance a message waiting for an earlier one of its key
   * (WaitForEarlierMessage) keeps waiting when no earlier message of the key is on the bus any more;
   * then it is dead-lettered. While an earlier one is still on the bus it waits, up to the retry budget.
   */
  waitForEarlierMaxSeconds: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Retries a connector keeps parked in memory (count, bytes) before its retry topic is paused. */
  retryParkedMaxRecords: number;
  retryParkedMaxBytes: number;
  deliveryTimeoutMs: number;
  /**
   * How long one call of a connector's handle() may take; past it the attempt is abandoned (its
   * signal aborted) and retried. Longer than deliveryTimeoutMs: a handler's own deliveries end first.
   */
  connectorAttemptTimeoutMs: number;
  deliveryConcurrency: number;
  /**
   * How often a runner commits its consumer offsets (ms; 0 = after every published batch of
   * outcomes). Each commit is a broker write; the delivery ledger makes a re-read after a crash
   * between commits harmless (read again, not delivered again).
   */
  offsetCommitIntervalMs: number;
  /**
   * The runner's fetch shaping: the broker answers a fetch once it holds this many bytes, or
   * after the wait. 1 byte answers as soon as a record arrives (lowest latency); more trades a
   * little latency at low load for fewer, larger batches (fewer requests and statements).
   */
  /**
   * How long the runner's consumer groups (each connector's, the ledger's) wait for a member that
   * stopped heartbeating before its partitions go to another runner.
   */
  consumerSessionTimeoutMs: number;
  /**
   * On SIGTERM/SIGINT, how long a service answers /readyz 503 while still serving, before it
   * stops taking work: a load balancer that probes /readyz drains it meanwhile.
   */
  shutdownDrainMs: number;
  runnerFetchMinBytes: number;
  runnerFetchMaxWaitMs: number;
  /**
   * While records keep coming, the runner's next fetch waits up to this long for a batch
   * (0 = never): a few milliseconds of latency at moderate rates for one fetch, one ledger
   * round and one outcome produce per window instead of per record (kafkajs-fetch-window.ts).
   */
  runnerFetchWindowMs: number;
  /**
   * The window ends as soon as the broker holds this many bytes for the runner: a batch worth a
   * fetch (about seven 1 KiB messages as they lie on the topic, sealed and signed). So the window
   * waits its whole length only at rates too low to fill that in time, and shortens as the rate
   * grows. A trade, measured (docs/measurements-log.md, "2026-12-07 09:54–"): 16 KiB against
   * 256 KiB (the window's whole length up to about 2,000 msg/s) took the end-to-end p50 / p99 at
   * half the sustained rate from 20 / 55 to 9 / 40 ms, for about 16% more bus CPU per message at
   * full load (about 7 records a fetch instead of about 40) and a max accepted rate about 10% lower.
   */
  runnerFetchWindowBytes: number;
  /**
   * Days a delivery stays in the runners' delivered ledger (runner_delivered; 0 = for ever).
   * The ledger keeps a record read again from Kafka from being delivered twice, so it must
   * outlast every way a record can come back: the retention of the topics runners read (Kafka's
   * default 7 days) and of their groups' committed offsets (offsets.retention.minutes, 7 days).
   */
  runnerDeliveredRetentionDays: number;
  /**
   * Days an uploaded attachment (POST /v1/attachments) that no document names is kept after its
   * last upload; the gateways then delete it (attachment-retention.ts). 0 keeps every upload.
   */
  attachmentUnreferencedRetentionDays: number;
  /**
   * Bytes of uploads no document names yet that one member's systems may hold at once
   * (upload-quota.ts); 0 sets no bound. Within the retention above, nothing else bounds them
   * but the rate limit.
   */
  attachmentUnreferencedQuotaBytes: number;
  /**
   * How long the runner lets the outcomes of deliveries that finish close together gather
   * before it marks them in its ledger (one statement) and publishes them (one produce), when
   * nothing is being published already (0 = the next turn of the event loop). Deliveries are not
   * held: only their `delivered` status and offset commits come this much later.
   */
  runnerOutcomeWindowMs: number;
  checkpointIntervalMs: number;
  /**
   * Audit chains of at most this many entries are verified in full at every integrity check;
   * longer ones from the last seal of a full pass that still holds (chain-verifier.ts).
   */
  auditFullVerifyMaxEntries: number;
  /** How often the audit leader verifies the whole chain on its own (and seals it when intact). */
  auditFullVerifyIntervalMs: number;
  /** Largest total size of one document package's attachments (edoc.send). */
  attachmentMaxBytes: number;
  /** Extra directories scanned like connectors/ (each holds <name>/connector.json). */
  connectorDirs: string[];
  /** npm packages (or package directories) holding a connector: each has a connector.json at its root. */
  connectorPackages: string[];
  /** How long a connector's start() may take before its start is failed. */
  connectorStartTimeoutMs: number;
  /** PEM bundles of the CAs trusted for XML-DSig document signatures (edXML); none = nothing verifies as valid. */
  edxmlTrustedCas: string[];
  /**
   * Addresses or CIDR ranges of the reverse proxies (ingress, load balancer) in front of the
   * HTTP services: from these peers X-Forwarded-For and X-Forwarded-Proto are believed, so
   * per-address limits count the client and not the proxy. Empty: the peer is the client.
   */
  trustedProxies: string[];
}

const DEFAULTS: BusConfig = {
  dataDir: '.lgsp/dev',
  kafkaBrokers: [],
  kafkaSslCaFile: '',
  kafkaSaslMechanism: 'scram-sha-512',
  kafkaSaslUsername: '',
  kafkaSaslPassword: '',
  kafkaCredentialsDir: '',
  kafkaPlaintext: false,
  databaseUrl: '',
  topicPrefix: '',
  topicPartitions: 6,
  registryFile: '.lgsp/dev/registry.json',
  keysDir: '.lgsp/dev/keys',
  jwksFile: '.lgsp/dev/keys/public/jwks.json',
  keyGraceSeconds: 8 * 24 * 3600,
  issuer: 'http://127.0.0.1:8080',
  logLevel: 'info',
  maxBodyBytes: 1024 * 1024,
  // Several full-size attachment uploads (20 MiB) at once; far more than 1 KiB messages need,
  // and with the copies each body makes on its way, well inside the services' heap limit.
  maxInflightBodyBytes: 64 * 1024 * 1024,
  connectionIdleTimeoutMs: 60_000,
  tokenTtlSeconds: 300,
  messageTtlSeconds: 7 * 24 * 3600,
  rateLimitPerMinute: 6000,
  tokenRateLimitPerMinute: 600,
  refusalAuditIntervalMs: 60_000,
  producerLingerMs: 0,
  producerMaxBatch: 500,
  // Batching windows at moderate rates (measurements log, 2026-12-07): 6 / 20 / 20 ms cost about
  // 15% less CPU per message at 416 msg/s than 3 / 10 / 10, with an end-to-end p50 some 6 ms
  // later and a p99 no worse; at full load the loops never idle, so they never wait.
  acceptLingerMs: 6,
  produceTimeoutMs: 10_000,
  retryMaxAttempts: 0,
  retryMaxAgeSeconds: 24 * 3600,
  // Long enough for an update sent just before the create it depends on (two requests of a
  // system in parallel) to see the create arrive; short against the 24 h budget.
  waitForEarlierMaxSeconds: 600,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 30_000,
  retryParkedMaxRecords: 10_000,
  retryParkedMaxBytes: 64 * 1024 * 1024,
  deliveryTimeoutMs: 10_000,
  connectorAttemptTimeoutMs: 60_000,
  deliveryConcurrency: 32,
  // Once a second: commits do not grow with the message rate. A runner killed between commits
  // leaves its successor records to read again, which the delivery ledger keeps from being
  // delivered again (README, Fault proof: 1 duplicate in runner-kill after broker-kill).
  offsetCommitIntervalMs: 1000,
  // What a runner killed without a goodbye (kill -9, a lost node) costs: its partitions'
  // deliveries and statuses wait this long. Shorter risks a runner that is only slow (a long
  // GC, a starved CPU on a busy 2-core node) being dropped and its partitions moved for nothing.
  consumerSessionTimeoutMs: 30_000,
  // Long enough for a load balancer probing /readyz every second or two to see the 503 (and
  // for Kubernetes to take the pod out of its Service) before new connections are refused.
  shutdownDrainMs: 5000,
  runnerFetchMinBytes: 1,
  runnerFetchMaxWaitMs: 100,
  runnerFetchWindowMs: 20,
  runnerFetchWindowBytes: 16 * 1024,
  runnerDeliveredRetentionDays: 30,
  attachmentUnreferencedRetentionDays: 7,
  attachmentUnreferencedQuotaBytes: 1024 * 1024 * 1024,
  runnerOutcomeWindowMs: 20,
  checkpointIntervalMs: 10_000,
  auditFullVerifyMaxEntries: 100_000,
  auditFullVerifyIntervalMs: 24 * 3600_000,
  attachmentMaxBytes: 20 * 1024 * 1024,
  connectorDirs: [],
  connectorPackages: [],
  connectorStartTimeoutMs: 30_000,
  edxmlTrustedCas: [],
  trustedProxies: [],
};

/** Environment variable → config key. Documented in README's configuration table. */
export const ENV_KEYS: Record<string, keyof BusConfig> = {
  LGSP_DATA_DIR: 'dataDir',
  KAFKA_BROKERS: 'kafkaBrokers',
  KAFKA_SSL_CA_FILE: 'kafkaSslCaFile',
  KAFKA_SASL_MECHANISM: 'kafkaSaslMechanism',
  KAFKA_SASL_USERNAME: 'kafkaSaslUsername',
  KAFKA_SASL_PASSWORD: 'kafkaSaslPassword',
  KAFKA_CREDENTIALS_DIR: 'kafkaCredentialsDir',
  LGSP_KAFKA_PLAINTEXT: 'kafkaPlaintext',
  DATABASE_URL: 'databaseUrl',
  LGSP_TOPIC_PREFIX: 'topicPrefix',
  LGSP_TOPIC_PARTITIONS: 'topicPartitions',
  LGSP_REGISTRY_FILE: 'registryFile',
  LGSP_KEYS_DIR: 'keysDir',
  LGSP_JWKS_FILE: 'jwksFile',
  LGSP_KEY_GRACE_SECONDS: 'keyGraceSeconds',
  LGSP_ISSUER: 'issuer',
  LOG_LEVEL: 'logLevel',
  LGSP_MAX_BODY_BYTES: 'maxBodyBytes',
  LGSP_MAX_INFLIGHT_BODY_BYTES: 'maxInflightBodyBytes',
  LGSP_CONNECTION_IDLE_TIMEOUT_MS: 'connectionIdleTimeoutMs',
  LGSP_TOKEN_TTL_SECONDS: 'tokenTtlSeconds',
  LGSP_MESSAGE_TTL_SECONDS: 'messageTtlSeconds',
  LGSP_RATE_LIMIT_PER_MINUTE: 'rateLimitPerMinute',
  LGSP_TOKEN_RATE_LIMIT_PER_MINUTE: 'tokenRateLimitPerMinute',
  LGSP_REFUSAL_AUDIT_INTERVAL_MS: 'refusalAuditIntervalMs',
  LGSP_PRODUCER_LINGER_MS: 'producerLingerMs',
  LGSP_PRODUCER_MAX_BATCH: 'producerMaxBatch',
  LGSP_ACCEPT_LINGER_MS: 'acceptLingerMs',
  LGSP_PRODUCE_TIMEOUT_MS: 'produceTimeoutMs',
  LGSP_RETRY_MAX_ATTEMPTS: 'retryMaxAttempts',
  LGSP_RETRY_MAX_AGE_SECONDS: 'retryMaxAgeSeconds',
  LGSP_WAIT_FOR_EARLIER_MAX_SECONDS: 'waitForEarlierMaxSeconds',
  LGSP_RETRY_BASE_DELAY_MS: 'retryBaseDelayMs',
  LGSP_RETRY_MAX_DELAY_MS: 'retryMaxDelayMs',
  LGSP_RETRY_PARKED_MAX_RECORDS: 'retryParkedMaxRecords',
  LGSP_RETRY_PARKED_MAX_BYTES: 'retryParkedMaxBytes',
  LGSP_DELIVERY_TIMEOUT_MS: 'deliveryTimeoutMs',
  LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS: 'connectorAttemptTimeoutMs',
  LGSP_DELIVERY_CONCURRENCY: 'deliveryConcurrency',
  LGSP_OFFSET_COMMIT_INTERVAL_MS: 'offsetCommitIntervalMs',
  LGSP_CONSUMER_SESSION_TIMEOUT_MS: 'consumerSessionTimeoutMs',
  LGSP_SHUTDOWN_DRAIN_MS: 'shutdownDrainMs',
  LGSP_RUNNER_FETCH_MIN_BYTES: 'runnerFetchMinBytes',
  LGSP_RUNNER_FETCH_MAX_WAIT_MS: 'runnerFetchMaxWaitMs',
  LGSP_RUNNER_FETCH_WINDOW_MS: 'runnerFetchWindowMs',
  LGSP_RUNNER_FETCH_WINDOW_BYTES: 'runnerFetchWindowBytes',
  LGSP_RUNNER_DELIVERED_RETENTION_DAYS: 'runnerDeliveredRetentionDays',
  LGSP_ATTACHMENT_UNREFERENCED_RETENTION_DAYS: 'attachmentUnreferencedRetentionDays',
  LGSP_ATTACHMENT_UNREFERENCED_QUOTA_BYTES: 'attachmentUnreferencedQuotaBytes',
  LGSP_RUNNER_OUTCOME_WINDOW_MS: 'runnerOutcomeWindowMs',
  LGSP_CHECKPOINT_INTERVAL_MS: 'checkpointIntervalMs',
  LGSP_AUDIT_FULL_VERIFY_MAX_ENTRIES: 'auditFullVerifyMaxEntries',
  LGSP_AUDIT_FULL_VERIFY_INTERVAL_MS: 'auditFullVerifyIntervalMs',
  LGSP_ATTACHMENT_MAX_BYTES: 'attachmentMaxBytes',
  LGSP_CONNECTOR_DIRS: 'connectorDirs',
  LGSP_CONNECTOR_PACKAGES: 'connectorPackages',
  LGSP_CONNECTOR_START_TIMEOUT_MS: 'connectorStartTimeoutMs',
  LGSP_EDXML_TRUSTED_CAS: 'edxmlTrustedCas',
  LGSP_TRUSTED_PROXIES: 'trustedProxies',
};

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataDir: { type: 'string', minLength: 1 },
    kafkaBrokers: { type: 'array', items: { type: 'string', pattern: '^[^:]+:[0-9]+$' } },
    kafkaSslCaFile: { type: 'string' },
    kafkaSaslMechanism: { enum: ['scram-sha-512', 'scram-sha-256'] },
    kafkaSaslUsername: { type: 'string' },
    kafkaSaslPassword: { type: 'string' },
    kafkaCredentialsDir: { type: 'string' },
    kafkaPlaintext: { type: 'boolean' },
    databaseUrl: { anyOf: [{ const: '' }, { type: 'string', pattern: '^postgres(ql)?://' }] },
    topicPrefix: { type: 'string', pattern: '^[a-zA-Z0-9._-]*$' },
    topicPartitions: { type: 'integer', minimum: 1, maximum: 1000 },
    registryFile: { type: 'string', minLength: 1 },
    keysDir: { type: 'string', minLength: 1 },
    jwksFile: { type: 'string', minLength: 1 },
    keyGraceSeconds: { type: 'integer', minimum: 60 },
    issuer: { type: 'string', pattern: '^https?://' },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    maxBodyBytes: { type: 'integer', minimum: 1024 },
    maxInflightBodyBytes: { type: 'integer', minimum: 1024 },
    connectionIdleTimeoutMs: { type: 'integer', minimum: 31_000 },
    tokenTtlSeconds: { type: 'integer', minimum: 30, maximum: 3600 },
    messageTtlSeconds: { type: 'integer', minimum: 60 },
    rateLimitPerMinute: { type: 'integer', minimum: 1 },
    tokenRateLimitPerMinute: { type: 'integer', minimum: 1 },
    refusalAuditIntervalMs: { type: 'integer', minimum: 100 },
    producerLingerMs: { type: 'integer', minimum: 0, maximum: 1000 },
    producerMaxBatch: { type: 'integer', minimum: 1, maximum: 10000 },
    acceptLingerMs: { type: 'integer', minimum: 0, maximum: 1000 },
    produceTimeoutMs: { type: 'integer', minimum: 1000, maximum: 120_000 },
    retryMaxAttempts: { type: 'integer', minimum: 0, maximum: 1000 },
    retryMaxAgeSeconds: { type: 'integer', minimum: 1 },
    waitForEarlierMaxSeconds: { type: 'integer', minimum: 0 },
    retryBaseDelayMs: { type: 'integer', minimum: 1 },
    retryMaxDelayMs: { type: 'integer', minimum: 1 },
    retryParkedMaxRecords: { type: 'integer', minimum: 1 },
    retryParkedMaxBytes: { type: 'integer', minimum: 1024 },
    deliveryTimeoutMs: { type: 'integer', minimum: 100 },
    connectorAttemptTimeoutMs: { type: 'integer', minimum: 1000 },
    deliveryConcurrency: { type: 'integer', minimum: 1, maximum: 1000 },
    offsetCommitIntervalMs: { type: 'integer', minimum: 0, maximum: 60_000 },
    // The broker's group.min/max.session.timeout.ms defaults (6 s, 30 min) bound what it accepts.
    consumerSessionTimeoutMs: { type: 'integer', minimum: 6000, maximum: 1_800_000 },
    shutdownDrainMs: { type: 'integer', minimum: 0, maximum: 120_000 },
    runnerFetchMinBytes: { type: 'integer', minimum: 1, maximum: 16 * 1024 * 1024 },
    runnerFetchMaxWaitMs: { type: 'integer', minimum: 1, maximum: 1000 },
    runnerFetchWindowMs: { type: 'integer', minimum: 0, maximum: 1000 },
    runnerFetchWindowBytes: { type: 'integer', minimum: 1, maximum: 16 * 1024 * 1024 },
    runnerDeliveredRetentionDays: { type: 'integer', minimum: 0, maximum: 36_500 },
    attachmentUnreferencedRetentionDays: { type: 'integer', minimum: 0, maximum: 36_500 },
    attachmentUnreferencedQuotaBytes: { type: 'integer', minimum: 0 },
    runnerOutcomeWindowMs: { type: 'integer', minimum: 0, maximum: 1000 },
    checkpointIntervalMs: { type: 'integer', minimum: 100 },
    auditFullVerifyMaxEntries: { type: 'integer', minimum: 0 },
    auditFullVerifyIntervalMs: { type: 'integer', minimum: 1000 },
    attachmentMaxBytes: { type: 'integer', minimum: 1024, maximum: 512 * 1024 * 1024 },
    connectorDirs: { type: 'array', items: { type: 'string', minLength: 1 } },
    connectorPackages: { type: 'array', items: { type: 'string', minLength: 1 } },
    connectorStartTimeoutMs: { type: 'integer', minimum: 100 },
    edxmlTrustedCas: { type: 'array', items: { type: 'string', minLength: 1 } },
    trustedProxies: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(overrides: Partial<BusConfig> = {}, env: NodeJS.ProcessEnv = process.env): BusConfig {
  let fromFile: Partial<BusConfig> = {};
  if (env.LGSP_CONFIG) {
    try {
      fromFile = JSON.parse(readFileSync(env.LGSP_CONFIG, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read LGSP_CONFIG ${env.LGSP_CONFIG}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const kind = typeof DEFAULTS[key];
    if (key === 'kafkaBrokers') fromEnv[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else if (Array.isArray(DEFAULTS[key])) fromEnv[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else if (kind === 'boolean') {
      if (!/^(0|1|true|false)$/.test(raw.trim())) throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
      fromEnv[key] = raw.trim() === '1' || raw.trim() === 'true';
    } else if (kind === 'number') {
      if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(`${name} must be a number, got "${raw}"`);
      fromEnv[key] = Number(raw);
    }
    else fromEnv[key] = raw;
  }
  const merged = { ...DEFAULTS, ...fromFile, ...fromEnv, ...overrides };
  // The dev keys and registry live in the data directory (`npm start` puts them there), so a
  // data directory of its own moves their defaults with it: otherwise `lgsp audit verify`, `lgsp
  // keys rotate` and the services read .lgsp/dev's keyset beside another stack's database (a
  // sound chain reported as forged, the wrong keys rotated). Set explicitly, they stay as set.
  // (A dataDir that is no string is left for the schema below to refuse.)
  if (typeof merged.dataDir === 'string') {
    const given = (key: keyof BusConfig) => key in fromFile || key in fromEnv || key in overrides;
    if (!given('keysDir')) merged.keysDir = join(merged.dataDir, 'keys');
    if (!given('jwksFile')) merged.jwksFile = join(merged.dataDir, 'keys', 'public', 'jwks.json');
    if (!given('registryFile')) merged.registryFile = join(merged.dataDir, 'registry.json');
  }
  const validate = new Ajv({ allErrors: true }).compile(configSchema);
  if (!validate(merged)) {
    // Said the way the operator set it: under the environment variable's name with the value
    // given (`LOG_LEVEL (logLevel) … got "DEBUG"`), and a choice with its allowed values.
    const details = (validate.errors ?? []).map((e) => {
      const field = e.instancePath.slice(1) || String(e.params?.additionalProperty);
      const key = field.split('/')[0];
      const envName = key in fromEnv && !(key in overrides) ? Object.keys(ENV_KEYS).find((n) => ENV_KEYS[n] === key && env[n] !== undefined && env[n] !== '') : undefined;
      const allowed = e.keyword === 'enum' ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : '';
      return `${envName ? `${envName} (${field})` : field} ${e.message}${allowed}${envName ? `, got "${env[envName]}"` : ''}`;
    });
    throw new ConfigError(`invalid configuration: ${details.join('; ')}`);
  }
  // A record keeps its signature for messageTtlSeconds (retries, dead letters, replays): a key
  // that stopped verifying sooner after a rotation would turn records in flight into forgeries.
  if (merged.keyGraceSeconds < merged.messageTtlSeconds) {
    throw new ConfigError(`invalid configuration: keyGraceSeconds (${merged.keyGraceSeconds}) must be at least messageTtlSeconds (${merged.messageTtlSeconds})`);
  }
  // A handler's deliveries end on their own deadline first; an attempt abandoned while one of them
  // is still running would be attempted again while the receiver may yet take the first.
  if (merged.connectorAttemptTimeoutMs <= merged.deliveryTimeoutMs) {
    throw new ConfigError(`invalid configuration: connectorAttemptTimeoutMs (LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS, ${merged.connectorAttemptTimeoutMs}) must be longer than deliveryTimeoutMs (LGSP_DELIVERY_TIMEOUT_MS, ${merged.deliveryTimeoutMs})`);
  }
  const notAnAddress = merged.trustedProxies.find((entry) => !isAddressOrRange(entry));
  if (notAnAddress !== undefined) throw new ConfigError(`invalid configuration: trustedProxies (LGSP_TRUSTED_PROXIES): "${notAnAddress}" is not an IP address or CIDR range`);
  merged.dataDir = resolve(merged.dataDir);
  return merged;
}

/** Only the Kafka connection settings from the environment (tools and tests that are not a service). */
export function kafkaSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const picked: NodeJS.ProcessEnv = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) if (key.startsWith('kafka') && env[name] !== undefined) picked[name] = env[name];
  const c = loadConfig({}, picked);
  return {
    kafkaBrokers: c.kafkaBrokers,
    kafkaSslCaFile: c.kafkaSslCaFile,
    kafkaSaslMechanism: c.kafkaSaslMechanism,
    kafkaSaslUsername: c.kafkaSaslUsername,
    kafkaSaslPassword: c.kafkaSaslPassword,
    kafkaCredentialsDir: c.kafkaCredentialsDir,
    kafkaPlaintext: c.kafkaPlaintext,
  };
}

/** The connector configuration file `npm start` writes for its runner (when LGSP_CONNECTORS_CONFIG names none). */
export function stackConnectorsConfigFile(dataDir: string): string {
  return join(dataDir, 'connectors-config.json');
}
