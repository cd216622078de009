// Everything the gateway's routes need, built once by gateway-service.ts.
import type { AccessTokenVerifier } from '../platform/access-token.js';
import type { MessageStore } from './message-store.js';
import type { BatchedWriter } from '../platform/batched-writer.js';
import type { BusEvent } from '../platform/bus-events.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { RejectionAudit } from './rejection-audit.js';
import type { SubmissionHook } from '../platform/submission-hooks.js';
import type { GatewayModuleHost } from '../platform/gateway-module.js';
import type { ConcurrencyLimit } from '../platform/concurrency-limit.js';
import type { Registry } from '../platform/registry.js';
import type { ClusterRateCounts } from './shared-rate-limit.js';

/** What the gateway's own routes use: the module host's view, plus the gateway's internals. */
export interface GatewayContext extends GatewayModuleHost {
  /** The registry after looking at its file now (LiveRegistry.latest): for a refusal by the registry (submission.ts withRegistryCaughtUp). */
  latestRegistry: () => Registry;
  /** The full store (the host's `MessageViews` narrowed to what modules may call). */
  store: MessageStore;
  /** 'accepted' rows of plain submissions, one INSERT per event-loop turn for all requests. */
  acceptedRows: BatchedWriter<BusEvent>;
  clientAuth: ClientAuthenticator;
  tokenVerifier: AccessTokenVerifier;
  audit: RejectionAudit;
  /** Business rules by message type, contributed by the domain modules the gateway runs. */
  submissionHooks: SubmissionHook[];
  /** Bounds the transactions held open across a Kafka produce (gateway-service.ts says why). */
  heldTransactions: ConcurrencyLimit;
  /** Rate-limit counts shared with the other gateways (shared-rate-limit.ts). */
  rateCounts: ClusterRateCounts;
}
