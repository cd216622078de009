// HTTP delivery of a message to an agency system: the body is the envelope as a compact JWS
// signed with the platform key (the receiver verifies it against /.well-known/jwks.json), with
// LGSP-Message-Id and LGSP-Correlation-Id headers. The response class decides retry vs. DLQ.
// The protected header names the recipient member (`aud`), its service (`svc`) and the signing
// time (`iat`), so a receiver can refuse a delivery meant for someone else — another member, or
// another system of its own member — or replayed long after. A delivery has
// a total deadline (not only idle timeouts: a receiver trickling bytes cannot hold a worker)
// and reads at most RESPONSE_CAP_BYTES of the receiver's answer.
import { request } from 'undici';
import { signCompactBytes } from './es256.js';
import { bufferView, SIGNATURE_HTTP_HEADER, signDetached } from './detached-jws.js';
import type { SigningKey } from './keystore.js';
import { PermanentError, RetryableError, type DeliveryRequest, type DeliveryResponse } from './delivery.js';
import { asciiHeaderValue } from './http-header-value.js';
import { deliveryClaims } from './delivery-claims.js';

export const DELIVERY_JWS_TYPE = 'lgsp-delivery+jws';
/** The 2xx is the receipt; what a receiver says beyond this many bytes is not read. */
export const RESPONSE_CAP_BYTES = 64 * 1024;

/** Reads at most `cap` bytes of a response body, then stops the transfer. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, cap: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = cap - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (chunk.length >= room) {
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}


/**
 * The request body: the envelope as a compact JWS, or (when the connector supplies `body`, e.g.
 * an edXML document) those bytes with a detached JWS over them in LGSP-Signature.
 */
function signedBody(req: DeliveryRequest, key: SigningKey): { body: string | Buffer; headers: Record<string, string> } {
  const claims = deliveryClaims(req.envelope.to);
  if (req.body) {
    const data = req.body.data;
    // A Buffer is sent as it is (no copy: an edXML document may be megabytes).
    const bytes = typeof data === 'string' ? Buffer.from(data) : bufferView(data);
    return { body: bytes, headers: { 'content-type': req.body.contentType, [SIGNATURE_HTTP_HEADER]: signDetached(bytes, key, req.body.contentType, claims) } };
  }
  const jws = signCompactBytes(JSON.stringify(req.envelope), { alg: 'ES256', kid: key.kid, typ: DELIVERY_JWS_TYPE, cty: 'application/cloudevents+json', ...claims }, key.keyObject);
  return { body: jws, headers: { 'content-type': 'application/jose' } };
}

/**
 * What cuts a delivery in flight off: an AbortSignal, or the running attempt itself
 * (attempt-time-limit.ts), which needs no signal made per message.
 */
export interface DeliveryStop {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export async function deliverSigned(req: DeliveryRequest, key: SigningKey, defaultTimeoutMs: number, signal: DeliveryStop): Promise<DeliveryResponse> {
  const signed = signedBody(req, key);
  let statusCode: number;
  let responseHeaders: Record<string, string | string[] | undefined>;
  let body: string;
  const timeoutMs = req.timeoutMs ?? defaultTimeoutMs;
  // The whole exchange — connect, send, headers, body — within the timeout, not per idle gap.
  // One controller, its timer cleared when the exchange ends: AbortSignal.timeout() would fire
  // for every delivery long after it finished (a DOMException each, 0.7% of the runner's CPU
  // in a profile) and AbortSignal.any() registers weak dependants per call.
  const exchange = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    exchange.abort();
  }, timeoutMs);
  const onStop = () => exchange.abort();
  if (signal.aborted) exchange.abort();
  else signal.addEventListener('abort', onStop, { once: true });
  try {
    // undici.request rather than fetch(): same HTTP stack, a fraction of the per-call cost,
    // and keep-alive connections pooled per receiver by the global agent.
    const response = await request(req.url, {
      method: 'POST',
      headers: {
        ...signed.headers,
        'lgsp-message-id': req.envelope.id,
        'lgsp-correlation-id': asciiHeaderValue(req.envelope.correlationId),
        'lgsp-message-type': req.envelope.type,
        ...req.headers,
      },
      body: signed.body,
      signal: exchange.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    statusCode = response.statusCode;
    responseHeaders = response.headers;
    body = (await readCapped(response.body, RESPONSE_CAP_BYTES).catch(() => ({ text: '' }))).text;
  } catch (err) {
    if (timedOut && !signal.aborted) throw new RetryableError(`delivery to ${new URL(req.url).origin} did not complete within ${timeoutMs} ms`);
    const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
    throw new RetryableError(`delivery to ${new URL(req.url).origin} failed: ${code ?? (err as Error).message}`);
  } finally {
    clearTimeout(deadline);
    signal.removeEventListener('abort', onStop);
  }
  if ((statusCode >= 200 && statusCode < 300) || req.acceptStatuses?.includes(statusCode)) return { status: statusCode, body };
  const summary = `receiver answered HTTP ${statusCode}`;
  if (statusCode >= 500 || statusCode === 408 || statusCode === 429 || statusCode === 425) {
    const retryAfter = responseHeaders['retry-after'];
    throw new RetryableError(summary, retryAfterMs(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter ?? null));
  }
  throw new PermanentError(summary);
}
