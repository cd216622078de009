// GET /v1/documents/{documentId}: a document as its sender follows it — every recipient with the
// message that carried it, its delivery state (accepted, delivered, failed, dead_lettered) and
// its business status history (01…06, 13, 15, 16), plus every package about the document
// (revokes, updates, replacements, status packets). A recipient sees its own row only, and the
// subject of the latest version sent to it. A revoke or update with a DocumentId of its own is
// found under that id too: what it revokes or updates, and the packages that carried it.
// The DocumentId holds '/' and ',': percent-encode it in the path, or use ?documentId=.
import type { FastifyInstance } from 'fastify';
import { problems } from '../../platform/problem.js';
import { hasAnyRole } from '../../platform/bearer-auth.js';
import type { Caller } from '../../platform/access-token.js';
import type { GatewayModuleHost } from '../../platform/gateway-module.js';
import { okResponse, problemResponsesWithCodes } from '../../platform/openapi-shapes.js';
import type { DocumentExchange } from './document-exchange-stores.js';
import type { ChangeView } from '../document-store.js';

export async function documentRoutes(app: FastifyInstance, ctx: GatewayModuleHost, exchange: DocumentExchange): Promise<void> {
  const view = async (documentId: string, caller: Caller) => {
    // A document the caller may not see is answered exactly like one that does not exist: a 403
    // would tell a stranger that this DocumentId went through the bus. So would the time the
    // answer took: the store decides on the document's row, before reading (and decrypting) more.
    // Parties are agency systems of the sending or a receiving member; operators and observers
    // follow every document but, like everywhere on the bus, without its contents (the subject,
    // status descriptions), whatever member their own system belongs to.
    const agency = hasAnyRole(caller, ['agency']);
    const overseer = hasAnyRole(caller, ['operator', 'observer']);
    const reader = {
      member: caller.member,
      mayRead: ({ sender, recipient }: { sender: boolean; recipient: boolean }) => overseer || (agency && (sender || recipient)),
    };
    const notFound = () => problems.notFound('DOCUMENT_NOT_FOUND', `No document ${documentId} that you may see went through the bus (only its sender, its recipients and operators may)`);
    const doc = await exchange.documents.document(documentId.normalize('NFC'), reader);
    // Not a document: a revoke or update with a DocumentId of its own, which its sender and its
    // recipients look up under that id too. Asked for whatever the first answer was, so a
    // document a caller may not see costs what an unknown id does.
    if (!doc) {
      const change = await exchange.documents.change(documentId.normalize('NFC'), reader);
      if (!change) throw notFound();
      return changeView(change, caller);
    }
    const sender = agency && caller.member === doc.from;
    const party = sender || (agency && doc.recipients.some((r) => r.member === caller.member));
    if (!(party || overseer)) throw notFound();
    const everything = sender || overseer;
    const mine = doc.recipients.filter((r) => r.member === caller.member);
    const registry = ctx.registry();
    const packages = everything ? doc.packages : doc.packages.filter((p) => p.from === caller.member || p.to === caller.member);
    const delivery = await ctx.store.statuses([...doc.recipients.map((r) => r.messageId), ...packages.map((p) => p.messageId)]);
    const recipients = (everything ? doc.recipients : mine).map((r) => {
      const last = [...r.history].reverse().find((h) => !['13', '15', '16'].includes(h.code));
      return {
        member: r.member,
        name: registry.member(r.member)?.name,
        messageId: r.messageId,
        delivery: delivery.get(r.messageId) ?? 'accepted',
        status: last?.code ?? null,
        // What this recipient was sent last (the original, or an update): the sender's to see.
        ...(sender ? { subject: r.subject } : {}),
        revoked: r.state.revoked,
        pending: r.state.pending,
        history: sender || (agency && r.member === caller.member) ? r.history : r.history.map(({ description: _content, ...entry }) => entry),
      };
    });
    return {
      documentId: doc.documentId,
      from: { member: doc.from, name: registry.member(doc.from)?.name },
      // The subject of the latest version sent to the caller: an update (BussinessDocType 2) may
      // change it, and only the recipients it went to may see the new one.
      ...(party ? { subject: sender ? doc.latestSubject : mine[0].subject } : {}),
      sentAt: doc.sentAt,
      recipients,
      packages: packages.map((p) => ({ ...p, delivery: delivery.get(p.messageId) ?? 'accepted' })),
    };
  };

  /** A revoke or update under its own DocumentId: what it changes, and the packages that carried it. */
  const changeView = async (change: ChangeView, caller: Caller) => {
    const agency = hasAnyRole(caller, ['agency']);
    const party = agency && (change.from === caller.member || change.packages.some((p) => p.to === caller.member));
    const registry = ctx.registry();
    const delivery = await ctx.store.statuses(change.packages.map((p) => p.messageId));
    const changed = { documentId: change.original, href: `/v1/documents/${encodeURIComponent(change.original)}` };
    return {
      documentId: change.documentId,
      from: { member: change.from, name: registry.member(change.from)?.name },
      ...(party ? { subject: change.subject } : {}),
      sentAt: change.sentAt,
      businessDocType: change.businessDocType,
      ...(change.businessDocType === 1 ? { revokes: changed } : { updates: changed }),
      packages: change.packages.map((p) => ({ ...p, delivery: delivery.get(p.messageId) ?? 'accepted' })),
    };
  };

  const schema = {
    tags: ['documents'],
    summary: 'A document by its DocumentId (<senderOrganId>,<YYYY/MM/DD>,<number/notation>): each recipient\'s delivery and status',
    security: [{ bearer: [] }],
    response: {
      ...okResponse('`{documentId, from, subject (parties only: the latest version sent to the caller), sentAt, recipients: [{member, name, messageId, delivery, status, subject (the sender only), revoked, pending, history}], packages}`; for a revoke or update under its own DocumentId `{documentId, from, subject (parties only), sentAt, businessDocType, revokes | updates: {documentId, href}, packages}`'),
      ...problemResponsesWithCodes({ 400: ['BAD_REQUEST', 'VALIDATION_FAILED'], 404: ['DOCUMENT_NOT_FOUND'], 503: ['STATE_UNAVAILABLE'] }),
    },
  };
  app.get<{ Params: { documentId: string } }>('/v1/documents/:documentId', {
    config: { auth: true, conditional: true },
    schema: { ...schema, params: { type: 'object', properties: { documentId: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['documentId'] } },
  }, async (req) => view(req.params.documentId, req.caller!));
  app.get<{ Querystring: { documentId: string } }>('/v1/documents', {
    config: { auth: true, conditional: true },
    schema: { ...schema, querystring: { type: 'object', additionalProperties: false, properties: { documentId: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['documentId'] } },
  }, async (req) => view(req.query.documentId, req.caller!));
}
