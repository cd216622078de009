// The pull inbox (GET /v1/inbox, GET /v1/inbox/{id}, POST /v1/inbox/{id}/ack): how systems that
// poll their hub receive what the bus holds for them. An item stays until the system
// acknowledges it; the acknowledgement is the receipt (the message's `delivered` event) and the
// item never comes back. Items are signed like pushed deliveries: LGSP-Signature is a detached
// JWS over the exact body (with `aud`, `svc` and `iat`), verifiable against /.well-known/jwks.json.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { eventRecords, messageEvent } from '../../platform/bus-events.js';
import { problems, ProblemError } from '../../platform/problem.js';
import { canonicalId } from '../../platform/uuid7.js';
import { SIGNATURE_HTTP_HEADER, signDetached } from '../../platform/detached-jws.js';
import { deliveryClaims } from '../../platform/delivery-claims.js';
import { encodeEdxml, DEFAULT_EDXML_SHAPE, type EdxmlShape, type JsonAttachment } from '../../edxml/edxml-codec.js';
import { AttachmentUnavailable } from '../../attachments/attachment-store.js';
import type { InboxItem } from '../inbox-store.js';
import type { GatewayModuleHost } from '../../platform/gateway-module.js';
import { alwaysSent, okResponse, problemResponsesWithCodes } from '../../platform/openapi-shapes.js';
import type { DocumentExchange } from './document-exchange-stores.js';
import { asciiHeaderValue } from '../../platform/http-header-value.js';
import { produceTransactionIdleMs } from '../../platform/database.js';
import { acceptAllows, acceptPrefers, acceptsNoneOf, preferredMediaType } from '../../platform/accept-header.js';

/** The media types an edXML package is served as (`?format=edxml`, or asked for by Accept). */
const EDXML_MEDIA_TYPES = ['application/xml', 'text/xml'];
const MAX_PAGE = 100;
const DEFAULT_PAGE = 50;
/** `limit`: 1 to MAX_PAGE, refused with the range named (problem-handler.ts, PATTERN_MEANINGS). */
const LIMIT_PATTERN = '^([1-9][0-9]?|100)$';
/** The largest cursor the `after` pattern takes (15 digits). */
const MAX_CURSOR = 999_999_999_999_999;

type PagingSchema = { querystring: { properties: Record<string, Record<string, unknown>> } } & Record<string, unknown>;

/**
 * GET /v1/inbox's query as the OpenAPI document shows it: `limit` and `after` as integers with
 * the bounds the route enforces (its patterns, and the handler's page maximum), not as strings a
 * generated client would have to format itself.
 */
function documentedPaging(schema: PagingSchema): PagingSchema {
  const { limit, after, ...others } = schema.querystring.properties;
  return {
    ...schema,
    querystring: {
      ...schema.querystring,
      properties: {
        ...others,
        limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE, description: limit.description },
        after: { type: 'integer', minimum: 0, maximum: MAX_CURSOR, description: after.description },
      },
    },
  };
}

function summary(item: InboxItem) {
  const { envelope } = item;
  // The fields an inbox listing shows, from an edoc.send or edoc.status payload.
  const data = envelope.data as {
    attachments?: unknown;
    header?: { documentId?: string; subject?: string };
    traceHeaderList?: { bussiness?: { bussinessDocType?: number } };
    statusCode?: string;
    responseFor?: { documentId?: string };
  };
  const attachments = Array.isArray(data.attachments)
    ? (data.attachments as JsonAttachment[]).map((a) => ({ contentId: a.contentId, name: a.name, contentType: a.contentType, size: a.size, sha256: a.sha256, href: `/v1/attachments/${a.sha256}` }))
    : undefined;
  return {
    id: item.id,
    type: item.type,
    from: envelope.from,
    correlationId: envelope.correlationId,
    depositedAt: item.depositedAt,
    ...(data.header?.documentId ? { documentId: data.header.documentId, subject: data.header.subject, businessDocType: data.traceHeaderList?.bussiness?.bussinessDocType ?? 0 } : {}),
    ...(data.statusCode ? { documentId: data.responseFor?.documentId, statusCode: data.statusCode } : {}),
    ...(attachments ? { attachments } : {}),
    href: `/v1/inbox/${item.id}`,
    ...(item.unreadable ? { unreadable: true } : {}),
  };
}

/** What a system checks before it stores an item (docs/qlvb-vendor-guide.md §5), named in the OpenAPI document. */
// Sent on every item (send() below), so documented as always sent: a generated client read them
// as optional, though a receiver must verify LGSP-Signature before it stores anything.
const INBOX_ITEM_HEADERS = {
  'LGSP-Signature': alwaysSent({ type: 'string', description: 'A JWS with detached payload (RFC 7515 Appendix F) over the body, signed with a delivery key (GET /.well-known/jwks.json?purpose=delivery); its protected header carries aud (your member code), svc (the service code the item is for) and iat (when it was signed)' }),
  'LGSP-Message-Id': alwaysSent({ type: 'string', description: 'The message id (deduplicate by it)' }),
  'LGSP-Message-Type': alwaysSent({ type: 'string', description: 'The message type, e.g. edoc.send' }),
  'LGSP-Correlation-Id': alwaysSent({ type: 'string', description: 'The correlation id (for edoc.*, the DocumentId), percent-encoded as UTF-8 when it holds a non-ASCII character or a %' }),
  'LGSP-Document-Signature': { type: 'string', description: 'edoc.*: what the bus found verifying the package\'s XML-DSig signature: valid | invalid | untrusted | unsigned' },
} as const;

export async function inboxRoutes(app: FastifyInstance, ctx: GatewayModuleHost, exchange: DocumentExchange): Promise<void> {
  const itemOf = async (id: string, caller: { clientId: string; member: string }, { acknowledged = false } = {}): Promise<InboxItem> => {
    const item = await exchange.inbox.get(id);
    // Someone else's item, an unknown id and (except to repeat an ack) an acknowledged one look
    // the same. The inbox is per member and system: an item sent to the member a system belonged
    // to before the registry moved it is not the system's any more.
    if (!item || item.system !== caller.clientId || item.member !== caller.member || (item.ackedAt !== null && !acknowledged)) throw problems.notFound('INBOX_ITEM_NOT_FOUND', `No message ${id} in your inbox`);
    return item;
  };

  // Query values arrive as strings (the gateway's ajv does not coerce types): patterns, then numbers.
  // The document says what they are, whole numbers with their bounds (documentedPaging): a
  // client generated from it passes numbers, which serialise to exactly what the patterns take.
  app.get<{ Querystring: { type?: string; limit?: string; after?: string } }>('/v1/inbox', {
    config: { roles: ['agency'], conditional: true, swaggerTransform: ({ schema, url }) => ({ schema: documentedPaging(schema as PagingSchema), url }) },
    schema: {
      tags: ['inbox'],
      summary: 'Messages waiting for the calling system (pull delivery), oldest first',
      description: 'An item the bus can no longer decrypt (a lost key) is listed with `unreadable: true`; fetching it answers 502 PAYLOAD_UNREADABLE.',
      security: [{ bearer: [] }],
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: { type: 'string', pattern: '^[a-z][a-z0-9-]*(\\.([a-z][a-z0-9-]*|\\*))+$', description: 'a message type, or a family such as edoc.*' },
          limit: { type: 'string', pattern: LIMIT_PATTERN, description: `page size, 1-${MAX_PAGE} (default ${DEFAULT_PAGE})` },
          after: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'the `next` cursor of the previous page (not a time or an id: a value past every cursor the bus has numbered is 400 BAD_REQUEST naming the newest)' },
        },
      },
      response: { ...okResponse('`{items: [{id, type, from, …, unreadable?}], next}`: `next` is the `after` of the next page, null on the last'), ...problemResponsesWithCodes({ 400: ['BAD_REQUEST', 'VALIDATION_FAILED'], 403: ['ROLE_REQUIRED'], 503: ['STATE_UNAVAILABLE'] }) },
    },
  }, async (req) => {
    const limit = Number(req.query.limit ?? DEFAULT_PAGE);
    // `next` only when another page follows: a last page that was exactly full said it all the
    // same, and the client fetched an empty page to learn it.
    const after = req.query.after === undefined ? undefined : Number(req.query.after);
    const { items, more } = await exchange.inbox.list(req.caller!.clientId, req.caller!.member, { type: req.query.type, after, limit });
    // An empty page for a cursor past every item the bus has numbered is no answer: the client
    // sent a time or an id for `after` (or kept a cursor across a restore of the database), and
    // would poll empty pages for ever while items wait. Said once the page is empty (no cost else).
    if (items.length === 0 && after !== undefined && after > 0) {
      const newest = await exchange.inbox.newestCursor();
      if (after > newest) {
        throw problems.badRequest(`after=${after} is past every inbox item the bus has numbered (the newest is ${newest}): it takes the \`next\` of a previous page, not a time or an id. List without after to start from the oldest waiting item`, [{ field: 'querystring.after', message: `past the newest cursor (${newest})` }]);
      }
    }
    return { items: items.map(summary), next: more ? items[items.length - 1].cursor : null };
  });

  app.get<{ Params: { id: string }; Querystring: { format?: 'json' | 'edxml' } }>('/v1/inbox/:id', {
    config: { roles: ['agency'], conditional: true },
    schema: {
      tags: ['inbox'],
      summary: 'One waiting message: the signed envelope (JSON) or, for edoc.*, the edXML package with its attachments',
      description: 'Format: `format` query, else the `Accept` header when it weighs one format above the other (`application/xml` or `text/xml` for edXML, `application/json` for JSON; q-values count, so `application/xml;q=0` refuses edXML), else the system\'s registry setting (documentDelivery.format) unless the header refuses it and leaves the other open: `*/*`, or both listed alike, leaves it to the registry. A type given q=0 is never served; edXML comes as the XML type the header weighs higher (`text/xml` when asked for, else `application/xml`); a header that takes none of the item\'s types is 406. edXML comes in the system\'s documentDelivery.edxmlShape (default sdk), or as the sender\'s original bytes when the package was signed. LGSP-Signature carries a detached JWS over the body; LGSP-Document-Signature says what the bus found verifying the package\'s XML-DSig signature (valid | invalid | untrusted | unsigned).',
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      querystring: { type: 'object', additionalProperties: false, properties: { format: { enum: ['json', 'edxml'] } } },
      response: { ...okResponse('The signed envelope (JSON) or the edXML package', ['application/json', ...EDXML_MEDIA_TYPES], INBOX_ITEM_HEADERS), ...problemResponsesWithCodes({ 403: ['ROLE_REQUIRED'], 404: ['INBOX_ITEM_NOT_FOUND'], 406: ['NOT_ACCEPTABLE'], 502: ['PAYLOAD_UNREADABLE', 'ATTACHMENT_MISSING', 'ATTACHMENT_CORRUPTED'], 503: ['STATE_UNAVAILABLE', 'GATEWAY_BUSY'] }) },
    },
  }, async (req, reply) => {
    const item = await itemOf(canonicalId(req.params.id), req.caller!);
    if (item.unreadable) {
      req.log.error({ messageId: item.id, reason: item.unreadable }, 'an inbox item cannot be decrypted');
      throw new ProblemError(502, 'PAYLOAD_UNREADABLE', 'Payload unreadable', `Message ${item.id} is held encrypted and cannot be decrypted by this bus (a lost or missing key); ask the sender to send it again`);
    }
    // An Accept header asking only for other types (application/soap+xml), or refusing every
    // type the item comes in (q=0), is told what the item comes in, not answered in a type it
    // did not ask for. `format` chooses over the header.
    const edoc = item.envelope.type === 'edoc.send' || item.envelope.type === 'edoc.status';
    const acceptable = edoc ? ['application/json', ...EDXML_MEDIA_TYPES] : ['application/json'];
    const accept = req.headers.accept;
    if (req.query.format === undefined && acceptsNoneOf(accept, acceptable)) {
      throw new ProblemError(406, 'NOT_ACCEPTABLE', 'Not acceptable', `This item comes as ${acceptable.join(', ')} (or chosen with ?format=json|edxml); the Accept header (${String(accept).slice(0, 200)}) takes none of them`, { acceptable });
    }
    // The registry's format, unless the header refuses it and leaves the other open
    // (application/json;q=0 from a system whose setting is JSON asks for the edXML).
    const registered = ctx.registry().system(req.caller!.clientId)?.documentDelivery?.format ?? 'json';
    const open = { json: acceptAllows(accept, 'application/json'), edxml: edoc && EDXML_MEDIA_TYPES.some((m) => acceptAllows(accept, m)) };
    const other = registered === 'json' ? 'edxml' : 'json';
    const preferred = req.query.format
      ?? acceptPrefers(accept, { name: 'edxml', mediaTypes: EDXML_MEDIA_TYPES }, { name: 'json', mediaTypes: ['application/json'] })
      ?? (!open[registered] && open[other] ? other : registered);
    const { envelope } = item;
    let body: Buffer;
    let contentType: string;
    if (preferred === 'edxml' && (envelope.type === 'edoc.send' || envelope.type === 'edoc.status')) {
      const shape = ctx.registry().system(req.caller!.clientId)?.documentDelivery?.edxmlShape ?? DEFAULT_EDXML_SHAPE;
      body = Buffer.from(await edxmlOf(envelope.type, envelope.data, exchange, shape));
      // As the header weighs the two XML types (text/xml for a client that asks for it).
      contentType = `${preferredMediaType(accept, EDXML_MEDIA_TYPES)}; charset=utf-8`;
    } else {
      body = Buffer.from(JSON.stringify(envelope));
      contentType = 'application/json; charset=utf-8';
    }
    // An edXML package carries its attachments (up to 20 MB): held until the system has read it,
    // within the gateway's budget, as a download is (inflight-body-budget.ts).
    req.holdAnswerBytes?.(reply, body.length);
    const verification = (envelope.data as { signatureVerification?: { result?: string } }).signatureVerification;
    if (verification?.result) reply.header('lgsp-document-signature', verification.result);
    // Signed like a push (signed-delivery.ts): the recipient member and service and the signing
    // time in the protected header, so the system can refuse an item meant for someone else or
    // replayed late.
    return send(reply, body, contentType, envelope, signDetached(body, ctx.signingKeys.delivery.signingKey, contentType, deliveryClaims(envelope.to)));
  });

  app.post<{ Params: { id: string } }>('/v1/inbox/:id/ack', {
    config: { roles: ['agency'] },
    schema: {
      tags: ['inbox'],
      summary: 'Acknowledge a message: the receipt; it leaves the inbox for good',
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      response: { 200: { type: 'object', description: 'Acknowledged: the receipt is recorded (once, however often the item is acknowledged)', properties: { id: { type: 'string' }, status: { const: 'delivered' } } }, ...problemResponsesWithCodes({ 403: ['ROLE_REQUIRED'], 404: ['INBOX_ITEM_NOT_FOUND'], 503: ['STATE_UNAVAILABLE', 'BUS_UNAVAILABLE'] }) },
    },
  }, async (req) => {
    // Acknowledging twice is harmless: the receipt is recorded once.
    const item = await itemOf(canonicalId(req.params.id), req.caller!, { acknowledged: true });
    if (item.ackedAt === null) {
      const delivered = messageEvent('delivered', item.envelope, 'gateway/inbox', { mode: 'pull', acknowledgedBy: req.caller!.clientId });
      // The item leaves the inbox (on every gateway) in the transaction that commits only once
      // Kafka holds the receipt.
      await ctx.db.transaction(async (tx) => {
        // Concurrent acks of one item (a client retrying before the first answer) both saw it
        // open; the row lock lets one close it, and only that one records the receipt.
        if ((await exchange.inbox.acknowledge([{ id: item.id, at: delivered.at }], tx)) === 0) return;
        await ctx.store.record([delivered], tx);
        try {
          await ctx.producer.send(eventRecords(ctx.topics, delivered));
        } catch {
          throw problems.unavailable('The receipt could not be recorded durably; acknowledge again', 5);
        }
        // A gateway that hangs here holds the item's row: bounded, so the ack retried on another
        // gateway gets through (database.ts, produceTransactionIdleMs).
      }, { idleTimeoutMs: produceTransactionIdleMs(ctx.config.produceTimeoutMs) });
    }
    return { id: item.id, status: 'delivered' as const };
  });
}

/**
 * The edXML package of an inbox item: the sender's signed original bytes when there are some
 * (regenerated XML would break the signature), else written in the system's shape with the
 * attachments embedded after their digests are verified.
 */
export async function edxmlOf(type: 'edoc.send' | 'edoc.status', data: Record<string, unknown>, exchange: DocumentExchange, shape: EdxmlShape): Promise<Buffer | string> {
  const readVerified = async (sha256: string, size: number | undefined, what: string) => {
    try {
      return await exchange.attachments.read(sha256, size);
    } catch (err) {
      if (err instanceof AttachmentUnavailable) {
        throw new ProblemError(502, err.fault === 'missing' ? 'ATTACHMENT_MISSING' : 'ATTACHMENT_CORRUPTED', 'Attachment unavailable', `${what}: ${err.message}; the package cannot be handed over intact`);
      }
      throw err;
    }
  };
  const original = data.original as { sha256: string; size: number } | undefined;
  if (original) return readVerified(original.sha256, original.size, 'the signed original package');
  const contents = new Map<string, string>();
  for (const a of ((data.attachments as JsonAttachment[] | undefined) ?? [])) {
    if (!a.sha256) continue;
    contents.set(a.contentId, (await readVerified(a.sha256, a.size, `attachment ${a.contentId}`)).toString('base64'));
  }
  return encodeEdxml(type, data, { shape, attachmentContent: (a) => contents.get(a.contentId) });
}

function send(reply: FastifyReply, body: Buffer, contentType: string, envelope: InboxItem['envelope'], signature: string): FastifyReply {
  return reply
    .header('content-type', contentType)
    .header('lgsp-message-id', envelope.id)
    .header('lgsp-correlation-id', asciiHeaderValue(envelope.correlationId))
    .header('lgsp-message-type', envelope.type)
    .header(SIGNATURE_HTTP_HEADER, signature)
    .send(body);
}
