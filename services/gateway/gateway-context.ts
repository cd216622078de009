// Everything the gateway's routes need, built once by gateway-service.ts.
import type { BusConfig } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import type { SchemaCatalogue } from '../platform/schema-catalogue.js';
import type { Registry } from '../platform/registry.js';
import type { PlatformKeystore } from '../platform/keystore.js';
import type { BatchingProducer } from '../platform/kafka-transport.js';
import type { Topics } from '../platform/topics.js';
import type { AccessTokenVerifier } from '../platform/access-token.js';
import type { MessageStore } from './message-store.js';
import type { Database } from '../platform/database.js';
import type { BatchedWriter } from '../platform/batched-writer.js';
import type { BusEvent } from '../platform/bus-events.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { RejectionAudit } from './rejection-audit.js';
import type { SubmissionHook } from '../platform/submission-hooks.js';
import type { GatewayModuleHost } from '../platform/gateway-module.js';

export interface GatewayContext extends GatewayModuleHost {
  config: BusConfig;
  log: Logger;
  catalogue: SchemaCatalogue;
  /** A getter, so a reloaded registry takes effect without restarting routes. */
  registry: () => Registry;
  keystore: PlatformKeystore;
  producer: BatchingProducer;
  topics: Topics;
  /** The shared PostgreSQL pool (state every gateway reads and writes). */
  db: Database;
  store: MessageStore;
  /** 'accepted' rows of plain submissions, one INSERT per event-loop turn for all requests. */
  acceptedRows: BatchedWriter<BusEvent>;
  clientAuth: ClientAuthenticator;
  tokenVerifier: AccessTokenVerifier;
  audit: RejectionAudit;
  /** Business rules by message type, contributed by the domain modules the gateway runs. */
  submissionHooks: SubmissionHook[];
}
