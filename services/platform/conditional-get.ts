// Conditional reads (RFC 9110 §13): a route that says `config: { conditional: true }` answers a
// GET or HEAD with an ETag, and a request whose If-None-Match names the current one with 304
// Not Modified and no body. Agency systems poll a message's status, their inbox and the
// directory; with the ETag of their last answer they learn "nothing changed" without the
// answer's bytes. The entity-tag is a digest of the answer's bytes as sent to this caller (a
// party's view of a message differs from an operator's, so their tags do too); a route that
// knows a better one sets it itself (an attachment: its SHA-256), and it is kept. Only GETs
// without side effects opt in: the tag stands for the representation, nothing else.
// The answers still say Cache-Control: no-store (security-headers.ts: they hold agency data):
// nothing is kept by browsers or proxies; the tag is the client's to keep and send back.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { operationsOf } from './openapi-operations.js';
import { openapiPath } from './openapi-response-headers.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** GET answers carry an ETag, and If-None-Match is honoured (conditional-get.ts). */
    conditional?: boolean;
  }
}

/** A strong entity-tag for an answer's bytes: 128 bits of their SHA-256, base64url. */
export function entityTagOf(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/** Whether an If-None-Match field value names `etag` (RFC 9110 §13.1.2: weak comparison; `*` names any). */
export function noneMatchNames(field: string, etag: string): boolean {
  if (field.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  for (const tag of field.matchAll(/(?:W\/)?("[^"]*")/g)) if (tag[1] === opaque) return true;
  return false;
}

/** Whether the request's If-None-Match names `etag`: the client holds the current answer. */
export function holdsCurrent(req: FastifyRequest, etag: string): boolean {
  const field = req.headers['if-none-match'];
  return field !== undefined && noneMatchNames(field, etag);
}

function conditionalAnswer(req: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (reply.statusCode !== 200 || (req.method !== 'GET' && req.method !== 'HEAD')) return payload;
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
  const etag = (reply.getHeader('etag') as string | undefined) ?? entityTagOf(payload);
  reply.header('etag', etag);
  if (!holdsCurrent(req, etag)) return payload;
  // 304: the headers a 200 would have carried that describe the representation's metadata
  // (ETag, Cache-Control, …) stay; those that describe its bytes go with them (RFC 9110 §15.4.5).
  reply.code(304);
  for (const header of ['content-type', 'content-length', 'content-encoding', 'repr-digest']) reply.removeHeader(header);
  // A HEAD keeps its payload for Fastify's HEAD handler, which sends no body and needs one to
  // measure: the Content-Length it writes is then the 200's, the one a 304 may carry (§8.6).
  return req.method === 'HEAD' ? payload : null;
}

const conditionalAnswerHook = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => conditionalAnswer(req, reply, payload);

export interface ConditionalGetOptions {
  /** Filled with the operations that opt in (`GET /v1/messages/{id}`), for withConditionalReads. */
  reads: Set<string>;
}

/** Adds the hook to the routes that opt in, registered after it: no other answer pays for it. */
export const conditionalGet = fp(async function conditionalGet(app: FastifyInstance, opts: ConditionalGetOptions) {
  app.addHook('onRoute', (route) => {
    if (!route.config?.conditional) return;
    opts.reads.add(`GET ${openapiPath(route.url)}`);
    const hooks = [route.onSend ?? []].flat();
    // First: a GET's HEAD twin ends its hooks with Fastify's HEAD handler, which takes the
    // payload away; the tag is of the bytes the GET would send.
    if (!hooks.includes(conditionalAnswerHook)) route.onSend = [conditionalAnswerHook, ...hooks];
  });
});

interface Parameter {
  name: string;
  in: string;
}

interface Operation {
  parameters?: Parameter[];
  responses?: Record<string, { description?: string; headers?: Record<string, unknown> }>;
}

const ETAG_HEADER = {
  description: 'The answer\'s entity-tag: send it back in If-None-Match to be told 304 when nothing changed',
  required: true,
  schema: { type: 'string' },
};

/**
 * The document of the operations named (`GET /v1/messages/{id}`, …) says what the hook does: an
 * If-None-Match header parameter, an ETag on the 200, and the 304 with its ETag. An operation
 * named that the document does not have is skipped.
 */
export function withConditionalReads<T>(document: T, conditional: ReadonlySet<string>): T {
  for (const [method, path, op] of operationsOf<Operation>(document)) {
    if (!conditional.has(`${method.toUpperCase()} ${path}`) || !op.responses?.['200']) continue;
    const parameters = (op.parameters ??= []);
    if (!parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-none-match')) {
      parameters.push({
        name: 'If-None-Match',
        in: 'header',
        required: false,
        description: 'The ETag of an answer you hold (or several, comma-separated, or `*`): when it is still the current one, the answer is 304 with no body',
        schema: { type: 'string' },
      } as Parameter);
    }
    op.responses['200'].headers = { ...op.responses['200'].headers, ETag: { ...ETAG_HEADER } };
    op.responses['304'] = { description: 'Not Modified: the answer is the one whose ETag you sent in If-None-Match; no body', headers: { ETag: { ...ETAG_HEADER } } };
  }
  return document;
}
