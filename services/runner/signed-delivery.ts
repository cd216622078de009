// HTTP delivery of a message to an agency system: the body is the envelope as a compact JWS
// signed with the platform key (the receiver verifies it against /.well-known/jwks.json), with
// LGSP-Message-Id and LGSP-Correlation-Id headers. The response class decides retry vs. DLQ.
import { signCompact } from '../platform/es256.js';
import type { SigningKey } from '../platform/keystore.js';
import { PermanentError, RetryableError, type DeliveryRequest, type DeliveryResponse } from '../../connectors/sdk/index.js';

export const DELIVERY_JWS_TYPE = 'lgsp-delivery+jws';

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export async function deliverSigned(req: DeliveryRequest, key: SigningKey, defaultTimeoutMs: number, signal: AbortSignal): Promise<DeliveryResponse> {
  const jws = signCompact(JSON.stringify(req.envelope), { alg: 'ES256', kid: key.kid, typ: DELIVERY_JWS_TYPE, cty: 'application/cloudevents+json' }, key.keyObject);
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/jose',
        'lgsp-message-id': req.envelope.id,
        'lgsp-correlation-id': req.envelope.correlationId,
        'lgsp-message-type': req.envelope.type,
        ...req.headers,
      },
      body: jws,
      signal: AbortSignal.any([signal, AbortSignal.timeout(req.timeoutMs ?? defaultTimeoutMs)]),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new RetryableError(`delivery to ${new URL(req.url).origin} failed: ${cause ?? (err as Error).message}`);
  }
  const body = await response.text().catch(() => '');
  if (response.ok) return { status: response.status, body };
  const summary = `receiver answered HTTP ${response.status}`;
  if (response.status >= 500 || response.status === 408 || response.status === 429 || response.status === 425) {
    throw new RetryableError(summary, retryAfterMs(response.headers.get('retry-after')));
  }
  throw new PermanentError(summary);
}
