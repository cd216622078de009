// Document exchange between QLVB systems (edXML) at the gateway: accepts edXML packages as
// XML on POST /v1/messages, enforces the document rules on edoc.* submissions, and serves the
// pull inbox, document lookup and attachments. Registered by app.ts like any route module; it
// owns its stores (SQLite next to the gateway's) and the consumer that feeds the inbox.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Consumer } from 'kafkajs';
import { createKafka, ensureTopics } from '../../platform/kafka-transport.js';
import { ProblemError } from '../../platform/problem.js';
import { RecordVerifier } from '../../platform/record-signing.js';
import { decodeEdxml, EdxmlError } from '../../edxml/edxml-codec.js';
import { XmlRefusal } from '../../edxml/safe-xml.js';
import { openAttachmentStore } from '../../attachments/attachment-store.js';
import { DocumentStore } from '../../document-exchange/document-store.js';
import { InboxStore } from '../../document-exchange/inbox-store.js';
import { startInboxFeed } from '../../document-exchange/inbox-feed.js';
import { edocSubmissionHook, recipientsForXml } from '../../document-exchange/edoc-rules.js';
import type { GatewayContext } from '../gateway-context.js';
import { inboxRoutes } from './inbox.js';
import { documentRoutes } from './documents.js';
import { attachmentRoutes } from './attachments.js';

export interface DocumentExchange {
  documents: DocumentStore;
  inbox: InboxStore;
  attachments: ReturnType<typeof openAttachmentStore>;
}

/** Largest edXML body: the attachments base64-encoded (4/3, plus line breaks) and the header. */
export function xmlBodyLimit(attachmentMaxBytes: number): number {
  return Math.ceil(attachmentMaxBytes * 1.4) + 2 * 1024 * 1024;
}

function xmlProblem(err: unknown): ProblemError {
  if (err instanceof XmlRefusal) {
    const status = err.code === 'XML_TOO_LARGE' ? 413 : err.code === 'XML_UNSUPPORTED_ENCODING' ? 415 : 400;
    return new ProblemError(status, err.code, 'XML refused', err.message);
  }
  if (err instanceof EdxmlError) {
    return new ProblemError(400, 'EDXML_INVALID', 'Not an edXML package', `${err.path}: ${err.message}`, { errors: [{ field: err.path, message: err.message }] });
  }
  if (err instanceof ProblemError) return err;
  return new ProblemError(400, 'XML_MALFORMED', 'XML refused', (err as Error).message);
}

export interface DocumentExchangeRoutes {
  /** Adds the edXML body parser to the scope of the routes that accept XML submissions. */
  acceptXmlSubmissions(scope: FastifyInstance): void;
}

export async function documentExchangeRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<DocumentExchangeRoutes> {
  const file = join(ctx.config.dataDir, 'gateway-documents.db');
  const exchange: DocumentExchange = {
    documents: new DocumentStore(file),
    inbox: new InboxStore(file),
    attachments: openAttachmentStore(ctx.config),
  };

  // One consumer group per store file: every gateway store sees every deposit and every ack.
  const kafka = createKafka('lgsp-gateway-inbox', ctx.config.kafkaBrokers, ctx.log);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [ctx.topics.inbox, ctx.topics.events], ctx.config.topicPartitions);
  await admin.disconnect();
  const feed: Consumer = await startInboxFeed({
    kafka,
    topics: ctx.topics,
    groupId: `${ctx.topics.prefix}lgsp-gateway-inbox-${createHash('sha256').update(file).digest('hex').slice(0, 12)}`,
    verifier: new RecordVerifier(ctx.keystore.publicKeyLookup(), { enforceExpiry: false }),
    registry: ctx.registry,
    inbox: exchange.inbox,
    log: ctx.log,
  });
  app.addHook('onClose', async () => {
    await feed.disconnect().catch(() => undefined);
    exchange.documents.close();
    exchange.inbox.close();
  });

  (ctx.submissionHooks ??= []).push(
    edocSubmissionHook({
      documents: exchange.documents,
      attachments: exchange.attachments,
      attachmentMaxBytes: ctx.config.attachmentMaxBytes,
      messageView: (id) => ctx.store.get(id),
    }),
  );

  await inboxRoutes(app, ctx, exchange);
  await documentRoutes(app, ctx, exchange);
  await attachmentRoutes(app, ctx, exchange);
  return { acceptXmlSubmissions: (scope) => acceptEdxmlSubmissions(scope, ctx, exchange) };
}

/**
 * An edXML package posted as XML becomes the JSON submission form; the route then validates
 * and routes it like any submission. Registered only on the scope of the routes that take XML
 * (POST /v1/messages): elsewhere — the token endpoint above all — an XML body is a 415 before a
 * byte of it is parsed. The body limit is raised for XML only (attachments travel inside it,
 * base64); JSON keeps the gateway-wide limit.
 */
function acceptEdxmlSubmissions(app: FastifyInstance, ctx: GatewayContext, exchange: DocumentExchange): void {
  const limit = xmlBodyLimit(ctx.config.attachmentMaxBytes);
  // Fastify's own refusal would quote the gateway-wide JSON limit; name the XML one instead.
  app.addHook('onRequest', async (req) => {
    if (/^(application|text)\/xml\b/.test(req.headers['content-type'] ?? '') && Number(req.headers['content-length'] ?? 0) > limit) {
      throw new ProblemError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', `The edXML body exceeds the limit of ${limit} bytes (attachments up to ${ctx.config.attachmentMaxBytes} bytes, base64)`);
    }
  });
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'buffer', bodyLimit: limit }, (_req, body, done) => {
    try {
      const { type, payload } = decodeEdxml(body as Buffer, { maxBytes: limit, maxDepth: 24, maxElements: 20_000, maxTextBytes: 1024 * 1024 });
      const to = recipientsForXml(type, payload, exchange.documents);
      if (type === 'edoc.status' && to.length === 0) {
        throw new ProblemError(422, 'DOCUMENT_NOT_FOUND', 'Document not found', 'the status packet names no document known to the bus (ResponseFor/DocumentId)', {
          errors: [{ field: 'edXMLHeader/Status/ResponseFor/DocumentId', message: 'unknown document' }],
        });
      }
      done(null, { type, to, payload });
    } catch (err) {
      done(xmlProblem(err), undefined);
    }
  });
}
