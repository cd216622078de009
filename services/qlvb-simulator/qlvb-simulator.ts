// Demo QLVB systems (document-management systems of agencies) for `npm start` and tests: they
// take documents the way real ones do — pushed to their endpoint (signed JSON envelope, or an
// edXML package with a detached signature) or pulled from their inbox — check every signature
// and every attachment digest, and answer each new document with status packets 03 (received)
// then 06 (completed), and a revoke or update with 15 (accepted). Systems that speak edXML
// answer in edXML. What they got and what they answered is readable at /_admin.
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { compactVerify, type JWTVerifyGetKey } from 'jose';
import type { Envelope } from '../platform/envelope.js';
import { controlProblems } from '../platform/control-problems.js';
import { SIGNATURE_HTTP_HEADER, verifyDetached } from '../platform/detached-jws.js';
import { decodeEdxml, encodeEdxml, type EdxmlShape, type JsonAttachment } from '../edxml/edxml-codec.js';
import { BusClient, type ClientCredentials, type JsonBody } from '../platform/bus-client.js';

export interface SimulatedSystem {
  clientId: string;
  member: string;
  organName: string;
  mode: 'push' | 'pull';
  format: 'json' | 'edxml';
  /** The outer form it writes and expects edXML in (registry documentDelivery.edxmlShape). */
  shape?: EdxmlShape;
  credentials: ClientCredentials;
}

export interface ReceivedDocument {
  messageId: string;
  type: string;
  via: 'push' | 'pull';
  format: 'json' | 'edxml';
  documentId?: string;
  subject?: string;
  businessDocType?: number;
  statusCode?: string;
  from?: string;
  /** edXML: the shape it arrived in, and the bytes themselves (so a test can check a signature). */
  shape?: EdxmlShape;
  xml?: string;
  /** What the bus said about the package's XML-DSig signature (header, or signatureVerification). */
  signature?: string;
  attachments: { contentId: string; name?: string; size: number; sha256: string; verified: boolean }[];
  problem?: string;
  receivedAt: string;
  answers: { statusCode: string; status: number; id?: string; problem?: string }[];
}

export interface QlvbSimulatorOptions {
  gatewayUrl: string;
  getKey: JWTVerifyGetKey;
  systems: SimulatedSystem[];
  /** Pause before each status packet (03, then 06), so a person can watch them arrive. */
  answerDelayMs?: number;
  pollIntervalMs?: number;
  /** How many received documents each system keeps, the newest (RECEIVED_KEPT_PER_SYSTEM). */
  keepPerSystem?: number;
}

/**
 * Each system keeps its newest documents only, the package's XML included (attachments inline):
 * kept all, a stack left running grew the simulator by every document delivered (about 8 KB for
 * the demo package, up to the attachments' 20 MB for others), and the duplicate check scanned them.
 */
export const RECEIVED_KEPT_PER_SYSTEM = 1000;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** 'YYYY/MM/DD HH:mm:ss' in Asia/Ho_Chi_Minh (UTC+7, no daylight saving), as edXML writes times. */
export function edxmlTimestamp(at = new Date()): string {
  const t = new Date(at.getTime() + 7 * 3600_000).toISOString();
  return `${t.slice(0, 4)}/${t.slice(5, 7)}/${t.slice(8, 10)} ${t.slice(11, 19)}`;
}

export class QlvbSimulator {
  readonly app: FastifyInstance;
  readonly received = new Map<string, ReceivedDocument[]>();
  readonly down = new Set<string>();
  /** Systems that refuse every pushed document with 422 (a permanent refusal: dead-lettered). */
  readonly refusing = new Set<string>();
  private readonly clients = new Map<string, BusClient>();
  private readonly systems = new Map<string, SimulatedSystem>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly answering = new Set<Promise<void>>();

  constructor(private readonly opts: QlvbSimulatorOptions) {
    for (const s of opts.systems) {
      this.systems.set(s.clientId, s);
      this.clients.set(s.clientId, new BusClient(opts.gatewayUrl, s.credentials));
      this.received.set(s.clientId, []);
    }
    this.app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
    // Its own refusals (a mode it does not know) are problem+json; its answers to pushed documents
    // are a simulated document system's (the bus reads their status only).
    controlProblems(this.app);
    this.app.addContentTypeParser(['application/jose', 'application/xml', 'text/xml'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    this.app.post<{ Params: { system: string }; Body: Buffer }>('/:system', async (req, reply) => {
      const system = this.systems.get(req.params.system);
      if (!system) return reply.code(404).send({ error: 'no such simulated system' });
      if (this.down.has(system.clientId)) return reply.code(503).header('retry-after', '1').send({ error: 'system down (simulated)' });
      if (this.refusing.has(system.clientId)) return reply.code(422).send({ error: 'refused by the receiving system (simulated)' });
      let doc: { envelope?: Envelope; type: string; data: Record<string, unknown>; format: 'json' | 'edxml'; shape?: EdxmlShape; xml?: string };
      try {
        doc = await this.verifyPush(system, req.headers as Record<string, string>, req.body);
      } catch (err) {
        return reply.code(401).send({ error: `rejected: ${(err as Error).message}` });
      }
      const messageId = String(req.headers['lgsp-message-id'] ?? doc.envelope?.id);
      if (this.list(system).some((d) => d.messageId === messageId)) return { received: messageId, duplicate: true };
      const record = await this.take(system, messageId, 'push', doc.format, doc.type, doc.data, doc.envelope?.from.member, undefined, { shape: doc.shape, xml: doc.xml, signature: req.headers['lgsp-document-signature'] as string | undefined });
      this.answerLater(system, record, doc.data);
      return { received: messageId };
    });
    this.app.get<{ Params: { system: string } }>('/_admin/systems/:system/documents', async (req) => ({ system: req.params.system, documents: this.received.get(req.params.system) ?? [] }));
    // Any other mode (a typo: "dwon") is refused: taken as "up", it left a rehearsed outage unstarted.
    const modeSchema = { body: { type: 'object', required: ['mode'], additionalProperties: false, properties: { mode: { enum: ['ok', 'down'] } } } };
    this.app.put<{ Params: { system: string }; Body: { mode: 'ok' | 'down' } }>('/_admin/systems/:system/mode', { schema: modeSchema }, async (req) => {
      if (req.body.mode === 'down') this.down.add(req.params.system);
      else this.down.delete(req.params.system);
      return { system: req.params.system, mode: req.body.mode };
    });
    this.app.get('/healthz', async () => ({ status: 'ok' }));
  }

  private list(system: SimulatedSystem): ReceivedDocument[] {
    return this.received.get(system.clientId)!;
  }

  /**
   * A pushed delivery: a JWS of the envelope, or edXML bytes signed by LGSP-Signature. As the
   * vendor guide tells a receiver to, it refuses a signature made for another member (`aud`).
   */
  private async verifyPush(system: SimulatedSystem, headers: Record<string, string>, body: Buffer) {
    const contentType = headers['content-type'] ?? '';
    const forThisMember = (aud: unknown) => {
      if (aud !== system.member) throw new Error(`the delivery is signed for ${JSON.stringify(aud)}, not ${system.member}`);
    };
    if (contentType.startsWith('application/jose')) {
      const { payload, protectedHeader } = await compactVerify(body.toString('utf8'), this.opts.getKey, { algorithms: ['ES256'] });
      if (protectedHeader.typ !== 'lgsp-delivery+jws') throw new Error('unexpected JWS type');
      forThisMember(protectedHeader.aud);
      const envelope = JSON.parse(new TextDecoder().decode(payload)) as Envelope<Record<string, unknown>>;
      if (headers['lgsp-message-id'] !== envelope.id) throw new Error('LGSP-Message-Id does not match the signed message');
      return { envelope, type: envelope.type, data: envelope.data, format: 'json' as const };
    }
    const signature = headers[SIGNATURE_HTTP_HEADER];
    if (!signature) throw new Error('no LGSP-Signature');
    forThisMember((await verifyDetached(body, signature, this.opts.getKey)).aud);
    const { type, payload, shape } = decodeEdxml(body);
    return { type, data: payload, format: 'edxml' as const, shape, xml: body.toString('utf8') };
  }

  /** Records a document after checking its attachments: downloaded (JSON) or embedded (edXML). */
  private async take(system: SimulatedSystem, messageId: string, via: 'push' | 'pull', format: 'json' | 'edxml', type: string, data: Record<string, JsonBody>, from?: string, expected?: JsonAttachment[], xml: { shape?: EdxmlShape; xml?: string; signature?: string } = {}): Promise<ReceivedDocument> {
    const record: ReceivedDocument = {
      ...(xml.shape ? { shape: xml.shape, xml: xml.xml } : {}),
      signature: xml.signature ?? data.signatureVerification?.result,
      messageId,
      type,
      via,
      format,
      documentId: data.header?.documentId ?? data.responseFor?.documentId,
      subject: data.header?.subject,
      businessDocType: data.traceHeaderList?.bussiness?.bussinessDocType ?? (type === 'edoc.send' ? 0 : undefined),
      statusCode: data.statusCode,
      from: from ?? data.header?.from?.organId ?? data.from?.organId,
      attachments: [],
      receivedAt: new Date().toISOString(),
      answers: [],
    };
    for (const a of (data.attachments as JsonAttachment[] | undefined) ?? []) {
      try {
        let bytes: Buffer;
        let want = a.sha256 ?? expected?.find((e) => e.contentId === a.contentId)?.sha256;
        if (a.content !== undefined) bytes = Buffer.from(a.content, 'base64');
        else {
          const response = await fetch(`${this.opts.gatewayUrl}/v1/attachments/${a.sha256}`, { headers: { authorization: `Bearer ${await this.clients.get(system.clientId)!.accessToken()}` } });
          if (!response.ok) throw new Error(`download answered ${response.status}`);
          bytes = Buffer.from(await response.arrayBuffer());
          const repr = response.headers.get('repr-digest');
          if (repr && repr !== `sha-256=:${Buffer.from(a.sha256!, 'hex').toString('base64')}:`) throw new Error('Repr-Digest does not match');
        }
        const digest = sha256(bytes);
        want ??= digest;
        record.attachments.push({ contentId: a.contentId, name: a.name, size: bytes.length, sha256: digest, verified: digest === want });
        if (digest !== want) record.problem = `attachment ${a.contentId}: SHA-256 mismatch`;
      } catch (err) {
        record.problem = `attachment ${a.contentId}: ${(err as Error).message}`;
      }
    }
    const list = this.list(system);
    list.push(record);
    // The oldest go once the system holds its share (a duplicate push of one is then taken again).
    const keep = this.opts.keepPerSystem ?? RECEIVED_KEPT_PER_SYSTEM;
    if (list.length > keep) list.splice(0, list.length - keep);
    return record;
  }

  /**
   * What a diligent QLVB answers: a new document 03 then 06; a revoke or update 15 on the
   * original; a replacement 15 on the replaced document, then 03 and 06 on the new one; a
   * document whose attachments did not verify 02.
   */
  private answerLater(system: SimulatedSystem, record: ReceivedDocument, data: Record<string, JsonBody>): void {
    if (record.type !== 'edoc.send' || this.stopped) return;
    const kind = record.businessDocType ?? 0;
    const original = data.traceHeaderList?.bussiness?.documentId ?? data.traceHeaderList?.bussiness?.replacementInfoList?.[0]?.documentId ?? record.documentId;
    const answers: { documentId: string; code: string }[] = record.problem
      ? [{ documentId: record.documentId!, code: '02' }]
      : kind === 1 || kind === 2
        ? [{ documentId: original, code: '15' }]
        : kind === 3
          ? [{ documentId: original, code: '15' }, { documentId: record.documentId!, code: '03' }, { documentId: record.documentId!, code: '06' }]
          : [{ documentId: record.documentId!, code: '03' }, { documentId: record.documentId!, code: '06' }];
    const descriptions: Record<string, string> = {
      '02': `Từ chối tiếp nhận: ${record.problem ?? ''}`,
      '03': 'Đã tiếp nhận, vào sổ văn bản đến',
      '06': 'Đã hoàn thành xử lý',
      '15': kind === 1 ? 'Đồng ý thu hồi văn bản' : kind === 3 ? 'Đồng ý thay thế văn bản' : 'Đồng ý cập nhật văn bản',
    };
    const run = (async () => {
      for (const { documentId, code } of answers) {
        await new Promise((r) => setTimeout(r, this.opts.answerDelayMs ?? 300));
        if (this.stopped) return;
        const payload = {
          responseFor: { organId: data.header?.from?.organId, documentId },
          from: { organId: system.member, organName: system.organName },
          statusCode: code,
          description: descriptions[code],
          timestamp: edxmlTimestamp(),
          staffInfo: { department: 'Văn thư', staff: 'Văn thư (mô phỏng)' },
        };
        record.answers.push(await this.sendStatus(system, payload));
      }
    })().catch(() => undefined);
    this.answering.add(run);
    void run.finally(() => this.answering.delete(run));
  }

  /** A status packet back to the sender: JSON, or edXML for systems that speak it. */
  private async sendStatus(system: SimulatedSystem, payload: Record<string, JsonBody>): Promise<ReceivedDocument['answers'][number]> {
    const client = this.clients.get(system.clientId)!;
    try {
      let response: { status: number; body: JsonBody };
      if (system.format === 'edxml') {
        const r = await fetch(`${this.opts.gatewayUrl}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await client.accessToken()}`, 'content-type': 'application/xml; charset=utf-8' },
          body: encodeEdxml('edoc.status', payload, { shape: system.shape ?? 'sdk' }),
        });
        response = { status: r.status, body: await r.json().catch(() => null) };
      } else {
        response = await client.send({ type: 'edoc.status', to: { member: payload.responseFor.organId }, payload });
      }
      return { statusCode: payload.statusCode, status: response.status, id: response.body?.id, ...(response.status !== 202 ? { problem: response.body?.code ?? String(response.status) } : {}) };
    } catch (err) {
      return { statusCode: payload.statusCode, status: 0, problem: (err as Error).message };
    }
  }

  /** One pass over the inboxes of the pull systems: fetch, verify, acknowledge, answer. */
  async pollOnce(): Promise<void> {
    for (const system of this.systems.values()) {
      if (system.mode !== 'pull' || this.down.has(system.clientId)) continue;
      const client = this.clients.get(system.clientId)!;
      const page = await client.request('GET', '/v1/inbox?limit=20');
      if (page.status !== 200) continue;
      for (const item of page.body.items as { id: string; type: string; attachments?: JsonAttachment[] }[]) {
        if (this.stopped) return;
        const response = await fetch(`${this.opts.gatewayUrl}/v1/inbox/${item.id}`, { headers: { authorization: `Bearer ${await client.accessToken()}` } });
        if (!response.ok) continue;
        const body = Buffer.from(await response.arrayBuffer());
        let record: ReceivedDocument;
        let data: Record<string, unknown>;
        try {
          await verifyDetached(body, response.headers.get(SIGNATURE_HTTP_HEADER) ?? '', this.opts.getKey);
          const xml = (response.headers.get('content-type') ?? '').includes('xml');
          if (xml) {
            const decoded = decodeEdxml(body);
            data = decoded.payload;
            record = await this.take(system, item.id, 'pull', 'edxml', decoded.type, data, undefined, item.attachments, { shape: decoded.shape, xml: body.toString('utf8'), signature: response.headers.get('lgsp-document-signature') ?? undefined });
          } else {
            const envelope = JSON.parse(body.toString('utf8')) as Envelope<Record<string, unknown>>;
            data = envelope.data;
            record = await this.take(system, item.id, 'pull', 'json', envelope.type, data, envelope.from.member);
          }
        } catch {
          continue; // not acknowledged: the bus keeps it, and a person can look at it
        }
        await client.request('POST', `/v1/inbox/${item.id}/ack`);
        this.answerLater(system, record, data);
      }
    }
  }

  startPolling(): void {
    const tick = async () => {
      if (this.stopped) return;
      await this.pollOnce().catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.opts.pollIntervalMs ?? 1000);
    };
    this.timer = setTimeout(() => void tick(), this.opts.pollIntervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.answering]);
    await this.app.close();
  }
}
