// A local HTTP receiver for connector tests: stands in for the destination system (a webhook,
// a reporting system's API) on 127.0.0.1, records every request, answers what the test says
// (a status, a body, a Retry-After, a delay), and decodes — and, given the signer's keys,
// verifies — the signed bodies the bus sends (compact JWS envelope, or raw bytes with a
// detached JWS in LGSP-Signature).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import { verifyCompact } from '../../services/platform/es256.js';
import type { Envelope } from '../../services/platform/envelope.js';

export interface ReceivedRequest {
  method: string;
  /** Path and query, e.g. /api/v1/reports. */
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON when it is JSON. */
  json?: unknown;
  /** The envelope inside an application/jose body (a signed delivery). */
  envelope?: Envelope;
  /** Whether the signature (JWS body or LGSP-Signature) verified against the receiver's keys; undefined without keys or signature. */
  signatureValid?: boolean;
}

export interface ReceiverResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (to exercise timeouts). */
  delayMs?: number;
}

export type Responder = (req: ReceivedRequest) => ReceiverResponse | Promise<ReceiverResponse>;

export interface TestReceiver {
  url: string;
  readonly requests: ReceivedRequest[];
  /** How every following request is answered (default 200 { received: true }). */
  respondWith(response: ReceiverResponse | Responder): void;
  /** Answers the next `times` requests this way, then goes back to the standing answer. */
  respondOnce(response: ReceiverResponse | Responder, times?: number): void;
  /** Resolves once `count` requests have arrived (default 1). */
  waitFor(count?: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function checkDetached(body: string, detached: string, keys: (kid: string) => KeyObject | undefined): boolean {
  const [protectedHeader, empty, signature] = detached.split('.');
  if (empty !== '' || !protectedHeader || !signature) return false;
  try {
    verifyCompact(`${protectedHeader}.${Buffer.from(body).toString('base64url')}.${signature}`, keys);
    return true;
  } catch {
    return false;
  }
}

export async function startTestReceiver(opts: { publicKeys?: (kid: string) => KeyObject | undefined } = {}): Promise<TestReceiver> {
  const requests: ReceivedRequest[] = [];
  let standing: ReceiverResponse | Responder = { status: 200, body: { received: true } };
  const once: (ReceiverResponse | Responder)[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]));
      const received: ReceivedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body };
      const contentType = headers['content-type'] ?? '';
      if (contentType.startsWith('application/jose')) {
        try {
          const [, payload] = body.split('.');
          received.envelope = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Envelope;
          if (opts.publicKeys) {
            try {
              verifyCompact(body, opts.publicKeys);
              received.signatureValid = true;
            } catch {
              received.signatureValid = false;
            }
          }
        } catch {
          /* not a JWS: left undecoded */
        }
      } else if (/json/.test(contentType)) {
        try {
          received.json = JSON.parse(body);
        } catch {
          /* malformed JSON: the test sees the raw body */
        }
      }
      if (opts.publicKeys && headers['lgsp-signature']) received.signatureValid = checkDetached(body, headers['lgsp-signature'], opts.publicKeys);
      requests.push(received);
      for (const w of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const plan = once.shift() ?? standing;
      const answer = typeof plan === 'function' ? await plan(received) : plan;
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status ?? 200, {
        ...(answer.body !== undefined && typeof answer.body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...answer.headers,
      });
      res.end(payload);
    })().catch((err: Error) => {
      res.writeHead(500).end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(response) {
      standing = response;
    },
    respondOnce(response, times = 1) {
      for (let i = 0; i < times; i++) once.push(response);
    },
    waitFor(count = 1, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(requests.slice()); } });
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
