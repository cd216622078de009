// The document-management connector: official documents (edoc.send) and status packets
// (edoc.status) between agencies' QLVB systems. Each receiving system says in the registry how
// it takes them (documentDelivery): pushed to its endpoint as a signed webhook, or left in its
// inbox for it to pull; as the bus's JSON form, or as the edXML package itself in the shape it
// expects (edxmlShape, default the SDK samples' shape). A package that arrived signed is pushed
// as the sender's original bytes instead, so the receiver can verify the signature itself;
// every delivery says what the bus's verification found (LGSP-Document-Signature, and
// signatureVerification in the JSON form). Attachments are read back from the claim-check
// store and verified against their SHA-256 before anything is handed over, so a corrupted or
// missing attachment fails the delivery with the reason.
import { defineConnector, PermanentError, type Envelope } from '@lgsp/sdk';
import { encodeEdxml, EdxmlError, DEFAULT_EDXML_SHAPE, type EdocType, type JsonAttachment } from '@lgsp/sdk/edxml';

interface Config {
  timeoutMs?: number;
  transferBytesPerSecond?: number;
}

const DEFAULT_DELIVERY: { mode: 'push' | 'pull'; format: 'json' | 'edxml'; edxmlShape?: 'sdk' | 'envelope' | 'soap' } = { mode: 'push', format: 'json' };

export default defineConnector<Config>({
  name: 'document-management',
  description: 'edXML document exchange between QLVB systems: push or pull, JSON or edXML, attachments verified',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'How long a receiver has to answer a push, plus, for an edXML push, the time its body takes at transferBytesPerSecond' },
      transferBytesPerSecond: { type: 'integer', minimum: 1024, default: 1048576, description: 'The slowest transfer an edXML push (attachments embedded) is given time for' },
    },
  },
  async handle(message: Envelope, ctx) {
    const type = message.type as EdocType;
    if (type !== 'edoc.send' && type !== 'edoc.status') throw new PermanentError(`document-management does not carry ${message.type}`);
    const delivery = ctx.service.documentDelivery ?? DEFAULT_DELIVERY;
    const data = message.data as Record<string, unknown> & { attachments?: JsonAttachment[]; original?: { sha256: string; size: number }; signatureVerification?: { result: string } };
    const attachments = data.attachments ?? [];
    const signedOriginal = delivery.format === 'edxml' ? data.original : undefined;
    const embed = delivery.mode === 'push' && delivery.format === 'edxml' && !signedOriginal;
    const contents = new Map<string, string>();
    for (const a of attachments) {
      if (!a.sha256) throw new PermanentError(`attachment ${a.contentId} has no SHA-256`);
      const bytes = await ctx.readAttachment(a.sha256, a.size);
      if (embed) contents.set(a.contentId, Buffer.from(bytes).toString('base64'));
    }
    const shape = delivery.edxmlShape ?? DEFAULT_EDXML_SHAPE;
    const signature = data.signatureVerification?.result ?? 'unsigned';
    const detail = {
      mode: delivery.mode,
      format: delivery.format,
      ...(delivery.format === 'edxml' ? { shape: signedOriginal ? 'original' : shape } : {}),
      signature,
      attachmentsVerified: attachments.length,
    };
    const headers = { 'LGSP-Document-Signature': signature };

    if (delivery.mode === 'pull') {
      await ctx.depositToInbox(message);
      return { outcome: 'deposited', detail };
    }
    const url = ctx.service.endpoint;
    if (!url) throw new PermanentError(`service ${ctx.service.code} of ${ctx.service.provider} has no delivery endpoint in the registry`);
    const timeoutMs = ctx.config.timeoutMs;
    if (delivery.format === 'edxml') {
      let xml: string | Uint8Array;
      if (signedOriginal) {
        // Regenerated XML would break the signature: the bytes the sender signed go out as they came.
        xml = await ctx.readAttachment(signedOriginal.sha256, signedOriginal.size);
      } else {
        try {
          xml = encodeEdxml(type, data, { shape, attachmentContent: (a) => contents.get(a.contentId) });
        } catch (err) {
          if (err instanceof EdxmlError) throw new PermanentError(`cannot write the edXML package: ${err.path}: ${err.message}`);
          throw err;
        }
      }
      // The attachments travel inside this body: near the 20 MB limit it is some 28 MB, which no
      // receiver could take within a fixed 10 s over a link slower than ~22 Mbit/s — timed out,
      // retried, stored again each time, until the retry budget ran out. The receiver is given
      // the time the body takes at the slowest transfer the operator allows for, on top.
      const bytes = typeof xml === 'string' ? Buffer.byteLength(xml) : xml.byteLength;
      const transferMs = Math.ceil((bytes * 1000) / (ctx.config.transferBytesPerSecond ?? 1048576));
      const response = await ctx.deliver({ url, envelope: message, timeoutMs: (timeoutMs ?? 10000) + transferMs, headers, body: { contentType: 'application/xml; charset=utf-8', data: xml } });
      return { detail: { ...detail, httpStatus: response.status } };
    }
    const response = await ctx.deliver({ url, envelope: message, timeoutMs, headers });
    return { detail: { ...detail, httpStatus: response.status } };
  },
});
