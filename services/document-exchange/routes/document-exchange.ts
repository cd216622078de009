// Document exchange between QLVB systems (edXML) at the gateway, as a gateway module: accepts
// edXML packages as XML on POST /v1/messages, contributes the document rules on edoc.*
// submissions (a submission hook), and serves the pull inbox, document lookup and attachments.
// Its stores live in the gateways' shared PostgreSQL database; the ledger (services/ledger)
// feeds the inbox from lgsp.inbox and lgsp.events, so the gateway consumes nothing.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { problems, ProblemError } from '../../platform/problem.js';
import { isDatabaseUnavailable } from '../../platform/database.js';
import { declaredCharset, isUtf8Charset } from '../../platform/utf8-json-parser.js';
import type { GatewayModule, GatewayModuleHost } from '../../platform/gateway-module.js';
import type { SubmissionHook } from '../../platform/submission-hooks.js';
import { decodeEdxml, EdxmlError } from '../../edxml/edxml-codec.js';
import { XmlRefusal } from '../../edxml/safe-xml.js';
import { SignatureVerifier } from '../../edxml/signature-verifier.js';
import { openAttachmentStore } from '../../attachments/attachment-store.js';
import { startAttachmentRetention } from '../../attachments/attachment-retention.js';
import { attachmentSealing } from '../../platform/payload-keyring.js';
import { DocumentStore } from '../document-store.js';
import { InboxStore } from '../inbox-store.js';
import { inboxBacklogMetrics } from '../inbox-metrics.js';
import { edocSubmissionHook, recipientsForXml, type ReceivedPackage } from '../edoc-rules.js';
import { inboxRoutes } from './inbox.js';
import { documentRoutes } from './documents.js';
import { attachmentRoutes } from './attachments.js';
import type { DocumentExchange } from './document-exchange-stores.js';
import { documentExchangeAnswers } from './openapi-answers.js';

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
    const title = err.code === 'DUPLICATE_ATTACHMENT' ? 'Duplicate attachment' : 'Not an edXML package';
    return new ProblemError(400, err.code, title, `${err.path}: ${err.message}`, { errors: [{ field: err.path, message: err.message }] });
  }
  if (err instanceof ProblemError) return err;
  return new ProblemError(400, 'XML_MALFORMED', 'XML refused', (err as Error).message);
}

async function documentExchangeRoutes(app: FastifyInstance, ctx: GatewayModuleHost): Promise<SubmissionHook[]> {
  const exchange: DocumentExchange = {
    documents: new DocumentStore(ctx.db, { seal: (text) => ctx.payloads.sealText(text), open: (stored) => ctx.payloads.openText(stored) }),
    inbox: new InboxStore(ctx.db, (envelope) => ctx.payloads.openEnvelope(envelope)),
    attachments: openAttachmentStore(ctx.db, attachmentSealing(ctx.publicKeys, ctx.payloads.opener)),
  };
  inboxBacklogMetrics(ctx.metrics, exchange.inbox, ctx.log);
  // Uploads no document named, deleted past their retention (attachment-retention.ts).
  const retention = startAttachmentRetention({ db: ctx.db, retentionDays: ctx.config.attachmentUnreferencedRetentionDays, log: ctx.log.child({ part: 'attachment-retention' }) });
  app.addHook('onClose', () => retention.stop());

  // Read at start: a trust list that cannot be read stops the gateway rather than verifying
  // every signature as untrusted.
  const signatures = new SignatureVerifier(ctx.config.edxmlTrustedCas);
  app.addHook('onClose', () => signatures.close());
  if (signatures.trust.authorities.length === 0) ctx.log.warn('no trusted CA for document signatures (LGSP_EDXML_TRUSTED_CAS): signed edXML packages verify as untrusted at best');
  const received = new WeakMap<FastifyRequest, ReceivedPackage>();
  const rules = edocSubmissionHook({
    documents: exchange.documents,
    attachments: exchange.attachments,
    attachmentMaxBytes: ctx.config.attachmentMaxBytes,
    messageView: (id) => ctx.store.get(id),
    receivedPackage: (req) => received.get(req),
    refusedSignatures: (to) => ctx.registry().servicesOf(to.member, to.service)[0]?.documentSignatures?.refuse ?? [],
  });

  // An edXML package posted as XML becomes the JSON submission form; the route then validates
  // and routes it like any submission. The body limit is raised for XML only (attachments
  // travel inside it, base64); JSON keeps the gateway-wide limit.
  const limit = xmlBodyLimit(ctx.config.attachmentMaxBytes);
  // Fastify's own refusal would quote the gateway-wide JSON limit; name the XML one instead.
  app.addHook('onRequest', async (req) => {
    if (/^(application\/(soap\+)?xml|text\/xml)\b/.test(req.headers['content-type'] ?? '') && Number(req.headers['content-length'] ?? 0) > limit) {
      throw new ProblemError(413, 'PAYLOAD_TOO_LARGE', 'Payload too large', `The edXML body exceeds the limit of ${limit} bytes (attachments up to ${ctx.config.attachmentMaxBytes} bytes, base64)`);
    }
  });
  // application/soap+xml: SOAP 1.2's own media type (the SOAP shape is one of the accepted three).
  app.addContentTypeParser(['application/xml', 'text/xml', 'application/soap+xml'], { parseAs: 'buffer', bodyLimit: limit }, async (req: FastifyRequest, body: Buffer) => {
    // The parser is the gateway's, so it meets every route's body: only submissions are edXML.
    const route = `${req.method} ${req.routeOptions.url}`;
    if (route !== EDXML_ROUTE) throw problems.unsupportedMediaType(`${route} takes application/json; edXML packages are sent to ${EDXML_ROUTE}`);
    // edXML is UTF-8 (the XML declaration is checked by safe-xml); a header saying otherwise is
    // refused too, not decoded as UTF-8 regardless, with the code the declaration would get.
    const charset = declaredCharset(req.headers['content-type']);
    if (!isUtf8Charset(charset)) throw xmlProblem(new XmlRefusal('XML_UNSUPPORTED_ENCODING', `edXML packages are UTF-8; this one declares charset=${charset} in its Content-Type`));
    try {
      const { type, payload, shape, lookalikes } = decodeEdxml(body, { maxBytes: limit, maxDepth: 24, maxElements: 20_000, maxTextBytes: 1024 * 1024, maxAttributes: 20_000 });
      const to = await recipientsForXml(type, payload, exchange.documents, shape, req.caller!.member, lookalikes);
      // Verified over the exact bytes posted (safe-xml has accepted them by now); only a package
      // that carries a signature pays for it.
      const verification = payload.signature === undefined ? { result: 'unsigned' as const, checkedAt: new Date().toISOString() } : await signatures.verify(body.toString('utf8').replace(/^\uFEFF/, ''));
      received.set(req, { bytes: body, shape, verification, lookalikes });
      return { type, to, payload };
    } catch (err) {
      throw isDatabaseUnavailable(err) ? err : xmlProblem(err);
    }
  });

  // QCVN 102 describes attachments as MIME parts, and some QLVB systems post the package that
  // way: the bus takes them only inside the XML (AttachmentEncoded). Said so, instead of the
  // generic 415, before the body is read.
  app.addContentTypeParser(/^multipart\//i, (req: FastifyRequest, _payload, done) => {
    const route = `${req.method} ${req.routeOptions.url}`;
    done(problems.unsupportedMediaType(route === EDXML_ROUTE
      ? `MIME multipart packages are not taken: put each attachment in the package's AttachmentEncoded/Attachment (base64) and post the package itself as application/xml, text/xml or application/soap+xml, or send the JSON form (application/json) with attachments uploaded to POST /v1/attachments`
      : `${route} takes application/json`), undefined);
  });

  await inboxRoutes(app, ctx, exchange);
  await documentRoutes(app, ctx, exchange);
  await attachmentRoutes(app, ctx, exchange);
  return [rules];
}

/** The one route that takes edXML bodies. */
const EDXML_ROUTE = 'POST /v1/messages';

const EDXML_BODY = {
  schema: {
    type: 'string',
    contentMediaType: 'application/xml',
    description: 'An edXML package (edoc.send or edoc.status) as QLVB systems send it; the gateway turns it into the JSON submission form (type, to, payload) and validates and routes it like one',
  },
};

export const documentExchangeModule: GatewayModule = {
  name: 'document-exchange',
  register: documentExchangeRoutes,
  openapiRequestBodies: {
    [EDXML_ROUTE]: { 'application/xml': EDXML_BODY, 'text/xml': EDXML_BODY, 'application/soap+xml': EDXML_BODY },
    'POST /v1/attachments': {
      // minLength: an empty body is refused (attachments.ts), so a generated client does not send one.
      'application/octet-stream': { schema: { type: 'string', minLength: 1, contentMediaType: 'application/octet-stream', description: 'The attachment bytes (at least one)' } },
      // The route takes the bytes under any type (attachments.ts): a PDF as application/pdf, an
      // XML file as application/xml. Listed, so a generated client or Swagger UI may send them so.
      '*/*': { schema: { type: 'string', minLength: 1, description: 'The attachment bytes under their own type (application/pdf, application/xml, …), taken as they are (at least one)' } },
    },
  },
  openapiAnswers: documentExchangeAnswers,
};
