// The connector test harness: runs a connector's handle() against sample messages without
// Kafka, gateway or runner. It builds the ConnectorContext the runtime would — configuration
// validated against the connector's configSchema with defaults, declared secrets, metrics,
// logging — and records what the connector does with it: deliveries (real signed HTTP POSTs,
// e.g. to a startTestReceiver()), status events, replies, inbox deposits, metrics and log
// lines. Each send() reports what the runtime would make of the outcome: delivered,
// deposited, retried (a retryable failure) or dead-lettered (a permanent one).
//
// Given the connector's connector.json, sample payloads are checked against the declared
// message-type schemas first (as the gateway would) and examples(type) returns each schema's
// examples, so the samples a test uses are the ones integrators read in /v1/schemas.
//
// For the same connector on the real broker (integration), use startTestBus() from
// test/helpers/test-bus.ts with `connectors: ['<name>']`.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK } from 'jose';
import { createEnvelope, normalizeNfc, type Destination, type Party } from '../../services/platform/envelope.js';
import { generateSigningJwk, type SigningKey } from '../../services/platform/keystore.js';
import { SchemaCatalogue, type ConnectorManifest } from '../../services/platform/schema-catalogue.js';
// The harness delivers through the platform's signed delivery, the one the runner uses, so a
// connector meets the same signing, headers, timeouts and retry/permanent classification in a
// unit test as in the runner.
import { deliverSigned } from '../../services/platform/signed-delivery.js';
// And it reads what handle() threw, and limits how long a call may take, as the runner does.
import { handlerError } from '../../services/platform/handler-error.js';
import { forTheBus, thrownAt } from '../../services/platform/unplanned-error.js';
import { checkReply } from '../../services/platform/reply-check.js';
import { checkStatusDetail } from '../../services/platform/status-detail.js';
import { AttemptTimeLimit, type RunningAttempt } from '../../services/platform/attempt-time-limit.js';
import { isRetryable, type ConnectorDefinition, type ConnectorContext, type DeliveryRequest, type DeliveryResponse, type Envelope, type HandleResult, type ServiceTarget } from './index.js';
import { validateConnectorConfig } from './config-validation.js';
import { missingSecrets, scrubError, secretEnvName, secretsOf } from './secrets.js';
import { connectorMetricName, type ConnectorMetrics, type MetricLabels } from './metrics.js';
import { startTestReceiver, type TestReceiver } from './test-receiver.js';
import { memoryConnectorState, type ConnectorState } from './state.js';

export { startTestReceiver, type TestReceiver, type ReceivedRequest, type ReceiverResponse, type Responder } from './test-receiver.js';

export interface HarnessOptions {
  /** The connector's configuration, validated against its configSchema like the runner does. */
  config?: unknown;
  /** Secret values by name (the runner reads them from LGSP_SECRET_<CONNECTOR>_<NAME>). */
  secrets?: Record<string, string>;
  /** The connector's connector.json: payloads are checked against its schemas; examples() reads them. */
  manifest?: string | URL;
  /** The registry entry messages are addressed to (code, provider, system, endpoint). */
  service?: Partial<ServiceTarget>;
  /** Default sender of sample messages. */
  from?: Party;
  /** Timeout of ctx.deliver() when the request gives none (the runner's LGSP_DELIVERY_TIMEOUT_MS). */
  deliveryTimeoutMs?: number;
  /**
   * How long one call of handle() may take (the runner's LGSP_CONNECTOR_ATTEMPT_TIMEOUT_MS, 60 s):
   * past it the outcome is `retried` with the runner's reason and ctx.signal is aborted.
   */
  attemptTimeoutMs?: number;
  /**
   * Start a local receiver (harness.receiver) standing in for the providing system and use its
   * URL (plus `path`) as the service endpoint; it verifies the harness's signatures.
   */
  receiver?: boolean | { path?: string };
  /**
   * ctx.state the connector sees (default: a fresh in-memory one, read back with
   * harness.state). Pass the same object to two harnesses to play two runner replicas.
   */
  state?: ConnectorState;
}

export interface SendOptions {
  correlationId?: string;
  from?: Party;
  to?: Destination;
  /** Attempt number the connector sees (ctx.attempt): 1 first, more for a retry. */
  attempt?: number;
  /** Check the payload against the declared schema first (default: when a manifest was given). */
  validate?: boolean;
}

export interface Delivery {
  request: DeliveryRequest;
  response?: DeliveryResponse;
  error?: Error;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

export interface HandleOutcome {
  /** What the runtime would do: announce delivered/deposited, retry later, or dead-letter. */
  outcome: 'delivered' | 'deposited' | 'retried' | 'dead_lettered';
  envelope: Envelope;
  /** handle()'s result detail (recorded on the `delivered` event). */
  detail?: Record<string, unknown>;
  /**
   * The failure, for retried and dead_lettered; its message is the reason the runner records. For
   * an engine error (a JSON.parse SyntaxError…) that is a fixed text naming the class, and the
   * error thrown is its `cause` (docs/write-a-connector.md, "Failure reasons").
   */
  error?: Error & { retryAfterMs?: number };
  /** What this message caused. */
  deliveries: Delivery[];
  statuses: Record<string, unknown>[];
  replies: Record<string, unknown>[];
  deposits: Envelope[];
}

/** ctx.metrics in memory: read values back with value() and observations(). */
export class MemoryMetrics implements ConnectorMetrics {
  private readonly counters = new Map<string, number>();
  private readonly histograms = new Map<string, number[]>();
  private readonly kinds = new Map<string, 'counter' | 'histogram'>();

  constructor(private readonly connector: string) {}

  private key(name: string, labels?: MetricLabels): string {
    const sorted = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
    return `${name}${JSON.stringify(sorted)}`;
  }

  private declare(name: string, kind: 'counter' | 'histogram'): void {
    connectorMetricName(this.connector, name); // same name rules as the runtime
    const known = this.kinds.get(name);
    if (known && known !== kind) throw new Error(`metric ${name} is already a ${known}`);
    this.kinds.set(name, kind);
  }

  counter(name: string) {
    this.declare(name, 'counter');
    return {
      inc: (labels?: MetricLabels, value = 1) => {
        const k = this.key(name, labels);
        this.counters.set(k, (this.counters.get(k) ?? 0) + value);
      },
    };
  }

  histogram(name: string) {
    this.declare(name, 'histogram');
    const observe = (value: number, labels?: MetricLabels) => {
      const k = this.key(name, labels);
      this.histograms.set(k, [...(this.histograms.get(k) ?? []), value]);
    };
    return {
      observe,
      startTimer: (labels?: MetricLabels) => {
        const started = process.hrtime.bigint();
        return () => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          observe(seconds, labels);
          return seconds;
        };
      },
    };
  }

  /** A counter's value for exactly these labels (0 when never incremented). */
  value(name: string, labels?: MetricLabels): number {
    return this.counters.get(this.key(name, labels)) ?? 0;
  }

  /** A histogram's observed values for exactly these labels. */
  observations(name: string, labels?: MetricLabels): number[] {
    return this.histograms.get(this.key(name, labels)) ?? [];
  }
}

function manifestPath(manifest: string | URL): string {
  return manifest instanceof URL ? fileURLToPath(manifest) : manifest.startsWith('file:') ? fileURLToPath(manifest) : manifest;
}

/** Loads a connector.json (and its schemas) the way the gateway does; throws with the reason when it would be refused. */
export function loadManifest(manifest: string | URL): { manifest: ConnectorManifest; catalogue: SchemaCatalogue } {
  const file = manifestPath(manifest);
  const dir = dirname(file);
  const parent = dirname(dir);
  // Under a connectors/ directory paths are relative to the project root; in a package, to the package.
  const origin = basename(parent) === 'connectors' ? { baseDir: dirname(parent), manifestDir: dir, source: parent } : { baseDir: dir, manifestDir: dir, source: dir };
  const catalogue = new SchemaCatalogue();
  catalogue.addManifest(JSON.parse(readFileSync(file, 'utf8')) as ConnectorManifest, origin);
  return { manifest: catalogue.manifests[0], catalogue };
}

export class ConnectorHarness<Config = Record<string, unknown>> {
  readonly deliveries: Delivery[] = [];
  readonly statuses: Record<string, unknown>[] = [];
  readonly replies: Record<string, unknown>[] = [];
  readonly deposits: Envelope[] = [];
  readonly logs: LogLine[] = [];
  readonly metrics: MemoryMetrics;
  /** ctx.state as the connector left it (in memory unless HarnessOptions.state was given). */
  readonly state: ConnectorState;
  private readonly abort = new AbortController();
  private attempts?: AttemptTimeLimit;
  private readonly receivers: TestReceiver[] = [];
  /** The receiver started by the `receiver` option. */
  receiver: TestReceiver | null = null;
  private endpoint: string | undefined;

  private constructor(
    readonly definition: ConnectorDefinition<Config>,
    readonly config: Config,
    private readonly secretValues: Map<string, string>,
    private readonly signingKey: SigningKey,
    /** The public key deliveries are signed with (a receiver verifies with it). */
    readonly publicKey: KeyObject,
    private readonly opts: HarnessOptions,
    private readonly catalogue: SchemaCatalogue | null,
  ) {
    this.metrics = new MemoryMetrics(definition.name);
    this.state = opts.state ?? memoryConnectorState();
  }

  /** Validates configuration and secrets like the runner, then runs the connector's start(). */
  static async start<C>(definition: ConnectorDefinition<C>, opts: HarnessOptions = {}): Promise<ConnectorHarness<C>> {
    const catalogue = opts.manifest ? loadManifest(opts.manifest) : null;
    if (catalogue && catalogue.manifest.name !== definition.name) throw new Error(`connector.json declares ${catalogue.manifest.name}, the module ${definition.name}`);
    const config = validateConnectorConfig<C>(definition, opts.config);
    const secretValues = new Map(Object.entries(opts.secrets ?? {}).filter(([, v]) => Boolean(v)));
    const missing = missingSecrets(definition.secrets, secretValues);
    if (missing.length > 0) throw new Error(`connector ${definition.name}: missing secret${missing.length > 1 ? 's' : ''}: ${missing.map((s) => `${s} (${secretEnvName(definition.name, s)})`).join(', ')}`);
    const { kid, privateJwk } = await generateSigningJwk();
    const keyObject = createPrivateKey({ key: privateJwk as never, format: 'jwk' });
    const signingKey: SigningKey = { kid, alg: 'ES256', key: (await importJWK(privateJwk, 'ES256')) as CryptoKey, keyObject };
    const harness = new ConnectorHarness<C>(definition, config, secretValues, signingKey, createPublicKey(keyObject), opts, catalogue?.catalogue ?? null);
    if (opts.receiver) {
      harness.receiver = await harness.startReceiver();
      harness.endpoint = harness.receiver.url + (typeof opts.receiver === 'object' ? opts.receiver.path ?? '' : '');
    }
    try {
      await definition.start?.({ connector: definition.name, config, log: harness.logger({}), metrics: harness.metrics, secrets: harness.secrets, state: harness.state });
    } catch (err) {
      // As the runner shows a failed start: without the secrets' values.
      throw scrubError(err, secretValues);
    }
    return harness;
  }

  private get secrets() {
    return secretsOf(this.definition.name, this.definition.secrets, this.secretValues);
  }

  private logger(bindings: object) {
    const line = (level: LogLine['level']) => (obj: object, msg?: string) => {
      this.logs.push({ level, obj: { ...bindings, ...obj }, ...(msg !== undefined ? { msg } : {}) });
    };
    return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  }

  /** The key id and public key deliveries are signed with. */
  get signingKeyId(): string {
    return this.signingKey.kid;
  }

  /** A local receiver that verifies this harness's signatures; closed with the harness. */
  async startReceiver(): Promise<TestReceiver> {
    const receiver = await startTestReceiver({ publicKeys: (kid) => (kid === this.signingKey.kid ? this.publicKey : undefined) });
    this.receivers.push(receiver);
    return receiver;
  }

  /** The examples of a message type's schema (needs the manifest option). */
  examples<T = Record<string, unknown>>(type: string): T[] {
    const info = this.catalogue?.messageTypes.get(type);
    if (!info) throw new Error(`no schema for message type ${type}${this.catalogue ? '' : ' (pass the manifest option)'}`);
    return structuredClone((info.schema.examples ?? []) as T[]);
  }

  get service(): ServiceTarget {
    return { code: 'test-service', provider: '000.00.00.H49', system: 'test-system', ...(this.endpoint ? { endpoint: this.endpoint } : {}), ...this.opts.service };
  }

  /** Hands one message to handle() with a fresh context; never throws for the connector's failures. */
  async send(type: string, payload: unknown, opts: SendOptions = {}): Promise<HandleOutcome> {
    const data = normalizeNfc(payload);
    if (opts.validate ?? this.catalogue !== null) {
      const validate = this.catalogue?.payloadValidator(type);
      if (!validate) throw new Error(`message type ${type} is not declared in the connector's manifest`);
      if (!validate(data)) {
        const details = (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');
        throw new Error(`the sample ${type} payload would be refused by the gateway: ${details}`);
      }
    }
    const service = this.service;
    const envelope = createEnvelope({
      type,
      from: opts.from ?? this.opts.from ?? { member: '000.00.12.H49', system: 'test-sender' },
      to: opts.to ?? { member: service.provider, service: service.code },
      correlationId: opts.correlationId,
      data,
    }) as Envelope;
    return this.handle(envelope, opts.attempt ?? 1);
  }

  /** Sends each example of the type's schema; returns the outcomes in order. */
  async sendExamples(type: string): Promise<HandleOutcome[]> {
    const outcomes: HandleOutcome[] = [];
    for (const example of this.examples(type)) outcomes.push(await this.send(type, example));
    return outcomes;
  }

  /** Hands an envelope as is (e.g. one read from a fixture) to handle(). */
  async handle(envelope: Envelope, attempt = 1): Promise<HandleOutcome> {
    this.attempts ??= new AttemptTimeLimit(this.opts.attemptTimeoutMs ?? 60_000, this.abort.signal);
    let running!: RunningAttempt;
    const mine: Pick<HandleOutcome, 'deliveries' | 'statuses' | 'replies' | 'deposits'> = { deliveries: [], statuses: [], replies: [], deposits: [] };
    // As in the runner: an abandoned attempt's calls are refused, and a delivery in flight is cut off.
    const stillLive = (call: string) => running.refuseIfAbandoned(call);
    const ctx: ConnectorContext<Config> = {
      connector: this.definition.name,
      config: this.config,
      log: this.logger({ connector: this.definition.name, messageId: envelope.id }),
      service: this.service,
      attempt,
      get signal() {
        return running.signal();
      },
      deliver: async (request) => {
        stillLive('deliver');
        const delivery: Delivery = { request };
        this.deliveries.push(delivery);
        mine.deliveries.push(delivery);
        try {
          delivery.response = await deliverSigned(request, this.signingKey, this.opts.deliveryTimeoutMs ?? 10_000, running);
          return delivery.response;
        } catch (err) {
          delivery.error = err as Error;
          throw err;
        }
      },
      emitStatus: async (detail) => {
        checkStatusDetail(detail); // as the runner refuses it
        stillLive('emitStatus');
        this.statuses.push(detail);
        mine.statuses.push(detail);
      },
      reply: async (payload) => {
        stillLive('reply');
        const value = normalizeNfc(payload);
        // The runner checks every reply against the type's replySchema and dead-letters the
        // message naming the fields when it does not match: the same check, the same words.
        const replySchema = this.catalogue?.messageTypes.get(envelope.type)?.replySchema;
        if (replySchema) checkReply(envelope.type, this.catalogue!.validator(replySchema.$id as string), value);
        this.replies.push(value);
        mine.replies.push(value);
      },
      depositToInbox: async (deposit) => {
        stillLive('depositToInbox');
        if (deposit.id !== envelope.id || deposit.to.member !== envelope.to.member || deposit.to.service !== envelope.to.service) {
          throw Object.assign(new Error('a connector may deposit only the message it is handling, to its own recipient'), { retryable: false });
        }
        this.deposits.push(deposit);
        mine.deposits.push(deposit);
      },
      readAttachment: async () => {
        throw Object.assign(new Error('the test harness has no attachment store'), { retryable: false });
      },
      metrics: this.metrics,
      secrets: this.secrets,
      state: this.state,
    };
    try {
      const result = (await this.attempts.run((attempt) => {
        running = attempt;
        return this.definition.handle(envelope, ctx);
      })) as HandleResult | void;
      return { outcome: result?.outcome === 'deposited' ? 'deposited' : 'delivered', envelope, ...(result?.detail ? { detail: result.detail } : {}), ...mine };
    } catch (err) {
      // The reason the runner would record: secret values replaced, then read like the runner reads
      // it; an engine error's text withheld (its reason names the class; error.cause is the
      // original, text and all, for the test to read) and logged as the runner logs it (where, not the text).
      const thrown = handlerError(scrubError(err, this.secretValues));
      const { error, withheld } = forTheBus(thrown, 'handle()', envelope.id);
      if (withheld !== null) this.logger({ messageId: envelope.id }).warn({ errorClass: withheld, at: thrownAt(thrown) }, 'connector error withheld from the bus (it may quote message data)');
      return { outcome: isRetryable(error) ? 'retried' : 'dead_lettered', envelope, error, ...mine };
    }
  }

  /** The connector's health() (ok when it has none). */
  async health(): Promise<{ ok: boolean; detail?: string }> {
    return (await this.definition.health?.()) ?? { ok: true };
  }

  /** Runs stop(), aborts ctx.signal and closes the receivers it started. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.attempts?.stop();
    await this.definition.stop?.();
    await Promise.all(this.receivers.map((r) => r.close()));
  }
}

/** Shorthand for ConnectorHarness.start(). */
export function testConnector<C>(definition: ConnectorDefinition<C>, opts: HarnessOptions = {}): Promise<ConnectorHarness<C>> {
  return ConnectorHarness.start(definition, opts);
}
