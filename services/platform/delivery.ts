// The contract between a connector and the runtime's HTTP delivery: what a connector asks to be
// delivered, what it gets back, and the two failure classes that decide retry or dead letter.
// The platform owns it because both the runner and the SDK's test harness deliver through
// signed-delivery.ts; the SDK re-exports it for connectors.
import type { Envelope } from './envelope.js';

export interface DeliveryRequest {
  url: string;
  envelope: Envelope;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /**
   * Send these bytes instead of the signed envelope (e.g. an edXML document for a system that
   * speaks XML). The runtime signs them with a detached JWS in the LGSP-Signature header and
   * still sends the LGSP-Message-Id / LGSP-Correlation-Id / LGSP-Message-Type headers.
   */
  body?: { contentType: string; data: string | Uint8Array };
  /**
   * Non-2xx statuses to hand back as a response instead of throwing (e.g. [422], to read the
   * destination's reasons and throw a PermanentError that names them). Others still throw.
   */
  acceptStatuses?: number[];
}

export interface DeliveryResponse {
  status: number;
  body: string;
}

/**
 * Failure classes. The runtime checks the `retryable` flag rather than `instanceof`, so errors
 * from a connector bundling its own copy of the SDK are still classified correctly.
 */
export class RetryableError extends Error {
  readonly retryable = true;
  constructor(message: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'RetryableError';
  }
}

export class PermanentError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

export function isRetryable(err: unknown): boolean {
  // Unknown errors (bugs, timeouts) are retried: a retry is cheap, a lost message is not.
  return !(err && typeof err === 'object' && (err as { retryable?: unknown }).retryable === false);
}
