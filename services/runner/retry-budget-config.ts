// A connector's retry budget from the bus defaults and its manifest. A connector may declare a
// larger budget than the bus default (`"retry": { "maxAgeSeconds": s, "maxAttempts": n }`) when
// its destination is known to be unavailable for long stretches (a national portal); for each
// limit the larger of the two applies, never a smaller one. The time budget never outlives a
// record's signature (LGSP_MESSAGE_TTL_SECONDS): a retry past it would be refused as expired.
import type { BusConfig } from '../platform/config.js';
import type { RetryBudget } from './retry-policy.js';

export interface ManifestRetry {
  maxAttempts?: number;
  maxAgeSeconds?: number;
}

export function retryBudget(config: Pick<BusConfig, 'retryMaxAttempts' | 'retryMaxAgeSeconds' | 'messageTtlSeconds'>, declared?: ManifestRetry): RetryBudget {
  // 0 (the default) is no attempt limit: the time budget alone decides.
  const attempts = (n: number | undefined) => (n === 0 ? Infinity : Number.isInteger(n) ? n! : 0);
  const maxAttempts = Math.max(attempts(config.retryMaxAttempts), declared?.maxAttempts === undefined ? 0 : attempts(declared.maxAttempts));
  const maxAgeSeconds = Math.min(config.messageTtlSeconds, Math.max(config.retryMaxAgeSeconds, Number.isInteger(declared?.maxAgeSeconds) ? declared!.maxAgeSeconds! : 0));
  return { maxAttempts, maxAgeMs: maxAgeSeconds * 1000 };
}
