// What a domain module (document exchange, dossier exchange) plugs into the gateway, and what
// the gateway offers it. The gateway imports no domain module: its composition root
// (services/composition) hands the modules to startGateway(), each registers its routes in
// the gateway's API scope and returns the submission hooks that carry its business rules.
import type { FastifyInstance } from 'fastify';
import type { BusEvent, MessageStatus } from './bus-events.js';
import type { BusConfig } from './config.js';
import type { ServiceSigningKeys } from './key-files.js';
import type { PublicKeyset } from './public-keyset.js';
import type { PayloadSealing } from './sealed-payload.js';
import type { BatchingProducer } from './kafka-transport.js';
import type { Database, Queryable } from './database.js';
import type { DocumentedAnswers } from './openapi-answers.js';
import type { Logger } from './logger.js';
import type { Registry } from './registry.js';
import type { SchemaCatalogue } from './schema-catalogue.js';
import type { SubmissionHook } from './submission-hooks.js';
import type { Topics } from './topics.js';
import type { Registry as MetricsRegistry } from 'prom-client';

/** A message as GET /v1/messages/{id} shows it. */
export interface MessageView {
  id: string;
  type: string;
  from: { member: string; system: string };
  to: { member: string; service: string };
  correlationId: string;
  status: MessageStatus;
  events: { event: string; at: string; detail?: Record<string, unknown> }[];
}

/** The gateways' shared message status views (PostgreSQL), as far as a module may use them. */
export interface MessageViews {
  get(id: string): Promise<MessageView | null>;
  /** Delivery status of several messages at once (unknown ids are absent). */
  statuses(ids: string[]): Promise<Map<string, MessageStatus>>;
  /**
   * Read-your-writes on every gateway: writes events the module publishes itself, with `q` (its
   * transaction around the produce) or the pool.
   */
  record(events: BusEvent[], q?: Queryable): Promise<void>;
}

export interface GatewayModuleHost {
  config: BusConfig;
  log: Logger;
  catalogue: SchemaCatalogue;
  /** A getter, so a reloaded registry takes effect without restarting routes. */
  registry: () => Registry;
  /** The gateway's own private keys: tokens, message records, inbox items a system pulls. */
  signingKeys: ServiceSigningKeys<'token' | 'record' | 'delivery'>;
  /** Every service's public keys (verification only). */
  publicKeys: PublicKeyset;
  /** Seals payloads for the runner, opens what was sealed for the gateway (sealed-payload.ts). */
  payloads: PayloadSealing;
  producer: BatchingProducer;
  topics: Topics;
  store: MessageViews;
  /** The shared PostgreSQL pool: a module's own tables (see platform/migrations.ts). */
  db: Database;
  /** The gateway's Prometheus registry (its /metrics), for the module's own metrics. */
  metrics: MetricsRegistry;
}

export interface GatewayModule {
  name: string;
  /**
   * Registers the module's routes and content-type parsers in the scope that also serves
   * POST /v1/messages, and returns the hooks with its rules. Resources it opens are closed in
   * an onClose hook of `app`.
   */
  register(app: FastifyInstance, host: GatewayModuleHost): Promise<SubmissionHook[]>;
  /**
   * Request bodies the module's content-type parsers take that the routes' JSON schemas do not
   * describe, for the OpenAPI document: by operation ("POST /v1/messages"), media type → schema.
   */
  openapiRequestBodies?: Record<string, Record<string, { schema: Record<string, unknown> }>>;
  /**
   * The precise schemas of the module's success answers, for the OpenAPI document only (its
   * routes declare empty ones so that their answers are sent as built): openapi-answers.ts.
   */
  openapiAnswers?: DocumentedAnswers;
}
