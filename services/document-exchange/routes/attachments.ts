// Attachments, the claim check's HTTP side. POST /v1/attachments uploads bytes (up to the
// attachment limit, 20 MB by default) and answers their SHA-256, which an edoc.send then
// references; GET /v1/attachments/{sha256} hands the bytes to the sender and the recipients of
// a document that carries them, after checking them against the digest (Repr-Digest, RFC 9530,
// lets the receiver check again). A missing or corrupted attachment is an error, never bytes.
import type { FastifyInstance } from 'fastify';
import { problems, ProblemError } from '../../platform/problem.js';
import { AttachmentUnavailable, reprDigest, SHA256_HEX, sha256Hex } from '../../attachments/attachment-store.js';
import { contentDigestProblem, WANT_CONTENT_DIGEST } from '../../attachments/content-digest.js';
import type { GatewayModuleHost } from '../../platform/gateway-module.js';
import { alwaysSent, okResponse, problemResponse, problemResponsesWithCodes } from '../../platform/openapi-shapes.js';
import { holdsCurrent } from '../../platform/conditional-get.js';
import { byteRangeOf } from '../../platform/byte-range.js';
import { unreferencedBytesHeld, uploadQuotaProblem } from '../../attachments/upload-quota.js';
import type { DocumentExchange } from './document-exchange-stores.js';

export async function attachmentRoutes(app: FastifyInstance, ctx: GatewayModuleHost, exchange: DocumentExchange): Promise<void> {
  // Raw uploads get their own scope: the bytes are taken as they are whatever their declared
  // type (a PDF as application/pdf, an XML file as application/xml: never parsed here), with the
  // attachment limit; the type that counts is the one the edoc.send names.
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: ctx.config.attachmentMaxBytes }, (_req, body, done) => done(null, body));
    // Except a form (curl -F, an HTML form, most HTTP libraries' "file upload"): taken as bytes,
    // its boundaries and part headers were stored as the attachment, under a digest that was not
    // the file's. Refused before the body is read.
    upload.addContentTypeParser(/^multipart\//i, (_req, _payload, done) => {
      done(problems.unsupportedMediaType('POST /v1/attachments takes the file\'s bytes as the body, not a multipart form (whose boundaries and part headers would be stored as the attachment): e.g. curl --data-binary @file.pdf -H "Content-Type: application/pdf"'), undefined);
    });
    upload.post<{ Body: Buffer }>('/v1/attachments', {
      config: { roles: ['agency'] },
      bodyLimit: ctx.config.attachmentMaxBytes,
      schema: {
        tags: ['attachments'],
        summary: 'Upload an attachment (its bytes as the body, any Content-Type but a multipart form, e.g. application/octet-stream or application/pdf); reference it in edoc.send by sha256 and size',
        description: 'With a Content-Digest header (RFC 9530), the body is checked against its sha-256 and sha-512 digests before anything is stored; other algorithms beside one of those are ignored. 400 CONTENT_DIGEST_MISMATCH: a digest is not the body\'s; CONTENT_DIGEST_UNSUPPORTED: the header names neither sha-256 nor sha-512 (the answer carries Want-Content-Digest); CONTENT_DIGEST_INVALID: the header is not an RFC 9530 dictionary of byte sequences. 413 UPLOAD_QUOTA_EXCEEDED: the uploads of your member that no document names yet would pass its quota (the answer carries quotaBytes and heldBytes); send the documents that name them. Nothing is stored on any of them.',
        security: [{ bearer: [] }],
        headers: {
          type: 'object',
          properties: {
            'content-digest': { type: 'string', description: 'Optional (RFC 9530): sha-256=:<base64 of the SHA-256 of the body>: and/or sha-512=:…:; checked before the bytes are stored' },
          },
        },
        response: {
          201: {
            type: 'object',
            description: 'Stored: reference it in edoc.send by its sha256 and size',
            headers: { Location: alwaysSent({ type: 'string', description: 'GET /v1/attachments/{sha256} of the upload' }) },
            properties: { sha256: { type: 'string' }, size: { type: 'integer' }, href: { type: 'string' } },
          },
          ...problemResponsesWithCodes({ 403: ['ROLE_REQUIRED'], 413: ['PAYLOAD_TOO_LARGE', 'UPLOAD_QUOTA_EXCEEDED'], 415: ['UNSUPPORTED_MEDIA_TYPE'], 503: ['STATE_UNAVAILABLE', 'GATEWAY_BUSY'] }),
          // The header a client reads to learn which digest to send; it was sent, but not documented.
          400: {
            ...problemResponse('A malformed request or an empty body (BAD_REQUEST), or a Content-Digest refused (CONTENT_DIGEST_MISMATCH, CONTENT_DIGEST_UNSUPPORTED, CONTENT_DIGEST_INVALID); nothing was stored'),
            headers: { 'Want-Content-Digest': { type: 'string', description: `On CONTENT_DIGEST_UNSUPPORTED (RFC 9530 §4): the digest algorithms the bus checks, by preference: ${WANT_CONTENT_DIGEST}` } },
          },
        },
      },
    }, async (req, reply) => {
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw problems.badRequest('Send the attachment bytes as the body (an empty attachment is not one)');
      // Before the store: bytes that are not what the sender digested are not kept.
      const digestProblem = contentDigestProblem(req.headers['content-digest'], req.body);
      if (digestProblem) {
        if (digestProblem.code === 'CONTENT_DIGEST_UNSUPPORTED') reply.header('Want-Content-Digest', WANT_CONTENT_DIGEST);
        throw digestProblem;
      }
      // Before the store too: a member's uploads no document names are bounded (upload-quota.ts).
      const digest = sha256Hex(req.body);
      const quotaBytes = ctx.config.attachmentUnreferencedQuotaBytes;
      if (quotaBytes > 0) {
        const held = await unreferencedBytesHeld(ctx.db, req.caller!.member, digest);
        const refusal = uploadQuotaProblem({ held, size: req.body.length, quotaBytes, retentionDays: ctx.config.attachmentUnreferencedRetentionDays });
        if (refusal) throw refusal;
      }
      const { sha256, size } = await exchange.attachments.put(req.body, digest);
      await exchange.documents.grantAttachment(sha256, req.caller!.member);
      return reply.code(201).header('location', `/v1/attachments/${sha256}`).send({ sha256, size, href: `/v1/attachments/${sha256}` });
    });
  });

  // The parties' agency systems only: attachments are contents, which operators of the bus never
  // see (README "Payload encryption at rest"), whatever member their system belongs to.
  app.get<{ Params: { sha256: string } }>('/v1/attachments/:sha256', {
    config: { roles: ['agency'], conditional: true },
    schema: {
      tags: ['attachments'],
      summary: 'Download an attachment of a document you sent or received; verified against its SHA-256',
      security: [{ bearer: [] }],
      // Either case: hex is case-insensitive, and some platforms write it upper-case (.NET's Convert.ToHexString).
      params: { type: 'object', properties: { sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' } }, required: ['sha256'] },
      headers: {
        type: 'object',
        properties: {
          range: { type: 'string', description: 'One byte range (RFC 9110 §14.1.2), e.g. bytes=1048576- to resume a download: answered 206 with those bytes. Several ranges, another unit or a malformed range are ignored (the whole file, 200)' },
          'if-range': { type: 'string', description: 'The ETag of the file whose first part you hold: the range is served only while it is still that file (it always is: the tag is its SHA-256); anything else, a date included, gets the whole file' },
        },
      },
      response: {
        ...okResponse('The bytes, verified against their SHA-256 (Repr-Digest)', ['application/octet-stream'], {
          'Repr-Digest': alwaysSent({ type: 'string', description: 'sha-256=:<base64 of the SHA-256>: (RFC 9530): check it against the bytes' }),
          'Accept-Ranges': alwaysSent({ type: 'string', description: 'bytes: a Range is answered (206)' }),
        }),
        206: {
          description: 'The byte range asked for, from the bytes verified against their SHA-256; Repr-Digest and ETag are the whole file\'s (check the digest once the parts are put together)',
          headers: {
            'Content-Range': alwaysSent({ type: 'string', description: 'bytes <first>-<last>/<size> (RFC 9110 §14.4)' }),
            'Repr-Digest': alwaysSent({ type: 'string', description: 'sha-256=:<base64 of the SHA-256>: of the whole file (RFC 9530)' }),
            'Accept-Ranges': alwaysSent({ type: 'string', description: 'bytes' }),
          },
          content: { 'application/octet-stream': { schema: {} } },
        },
        416: {
          ...problemResponsesWithCodes({ 416: ['RANGE_NOT_SATISFIABLE'] })[416] as object,
          headers: { 'Content-Range': alwaysSent({ type: 'string', description: 'bytes */<size>: the size of the file' }) },
        },
        ...problemResponsesWithCodes({ 403: ['ROLE_REQUIRED'], 404: ['ATTACHMENT_NOT_FOUND'], 502: ['ATTACHMENT_MISSING', 'ATTACHMENT_CORRUPTED'], 503: ['STATE_UNAVAILABLE', 'GATEWAY_BUSY'] }),
      },
    },
  }, async (req, reply) => {
    const sha256 = req.params.sha256.toLowerCase();
    const caller = req.caller!;
    if (!SHA256_HEX.test(sha256) || !(await exchange.documents.mayReadAttachment(sha256, caller.member))) {
      throw problems.notFound('ATTACHMENT_NOT_FOUND', `No attachment ${sha256} for you`);
    }
    // The bytes are named by their digest, so it is their entity-tag; a client that holds them
    // (If-None-Match) is told so before they are read from the store (conditional-get.ts).
    const etag = `"${sha256}"`;
    if (holdsCurrent(req, etag)) return reply.code(304).header('etag', etag).send();
    // The whole file is held until the client has read it: counted against the gateway's budget
    // before it is read (inflight-body-budget.ts), so paused downloads cannot grow it unbounded.
    const stored = await exchange.attachments.stat(sha256);
    if (stored) req.holdAnswerBytes?.(reply, stored.size);
    let bytes: Buffer;
    try {
      bytes = await exchange.attachments.read(sha256);
    } catch (err) {
      if (err instanceof AttachmentUnavailable) throw new ProblemError(502, err.fault === 'missing' ? 'ATTACHMENT_MISSING' : 'ATTACHMENT_CORRUPTED', 'Attachment unavailable', err.message);
      throw err;
    }
    // A range is cut from bytes already checked against their digest (RFC 9110 §14): a download
    // lost near its end resumes there instead of starting again from the first byte.
    const ifRange = req.headers['if-range'];
    // Sent more than once, it names no one tag: the whole file.
    const range = byteRangeOf(req.headers.range, Array.isArray(ifRange) ? '' : ifRange, etag, bytes.length);
    if (range.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${bytes.length}`);
      throw new ProblemError(416, 'RANGE_NOT_SATISFIABLE', 'Range not satisfiable', `The range ${req.headers.range?.slice(0, 100) ?? ''} asks for no byte of the attachment, which has ${bytes.length} bytes`);
    }
    reply.header('content-type', 'application/octet-stream').header('repr-digest', reprDigest(sha256)).header('etag', etag).header('accept-ranges', 'bytes');
    if (range.kind === 'part') return reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${bytes.length}`).send(bytes.subarray(range.start, range.end + 1));
    return reply.send(bytes);
  });
}
