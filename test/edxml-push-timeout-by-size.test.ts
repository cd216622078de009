// An edXML push carries its attachments in the body, up to some 28 MB for a package at the 20 MB
// limit. The receiver had the connector's fixed timeout (10 s by default) for the whole exchange,
// body included: on a link too slow to move the body in that time every attempt timed out — the
// receiver stored the package, its 2xx came too late, the package came again — until the retry
// budget ran out and the document was dead-lettered. The receiver is now also given the time the
// body takes at the slowest transfer the operator allows for (transferBytesPerSecond).
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startEdocBus } from './helpers/edoc-bus.js';

const TIMEOUT_MS = 1000;
/**
 * The receiver's pace: the body of the package below (some 8 MB) takes it about 4 s, four times
 * the fixed timeout, and half the time the default transferBytesPerSecond (1 MiB/s) allows for.
 */
const READ_BYTES_PER_SECOND = 2 * 1024 * 1024;

function packageWith(attachment: Buffer): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLHeader>
    <edXML:MessageHeader>
      <edXML:From><edXML:OrganId>000.00.12.H49</edXML:OrganId><edXML:OrganName>Sở Thông tin và Truyền thông</edXML:OrganName></edXML:From>
      <edXML:To><edXML:OrganId>000.00.00.H49</edXML:OrganId><edXML:OrganName>Văn phòng UBND tỉnh</edXML:OrganName></edXML:To>
      <edXML:Code><edXML:CodeNumber>77</edXML:CodeNumber><edXML:CodeNotation>STTTT-BCVT</edXML:CodeNotation></edXML:Code>
      <edXML:Subject>Bản vẽ thiết kế hạ tầng mạng (tệp lớn)</edXML:Subject>
      <edXML:DocumentId>000.00.12.H49,2026/06/10,77/STTTT-BCVT</edXML:DocumentId>
    </edXML:MessageHeader>
  </edXML:edXMLHeader>
  <edXML:edXMLBody>
    <edXML:edXMLManifest><edXML:Reference><edXML:ContentId>cid:ban-ve.bin</edXML:ContentId><edXML:AttachmentName>Bản vẽ.bin</edXML:AttachmentName><edXML:ContentType>application/octet-stream</edXML:ContentType></edXML:Reference></edXML:edXMLManifest>
    <edXML:AttachmentEncoded><edXML:Attachment><edXML:ContentId>cid:ban-ve.bin</edXML:ContentId><edXML:Value>${attachment.toString('base64')}</edXML:Value></edXML:Attachment></edXML:AttachmentEncoded>
  </edXML:edXMLBody>
</edXML:edXMLEnvelope>`;
}

t.test('a big edXML push to a slow receiver is delivered on its first attempt', async (t) => {
  // The provincial office's QLVB takes edXML pushes here, reading at READ_BYTES_PER_SECOND.
  const received: { id: string; bytes: number }[] = [];
  const take = async (req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    try {
      for await (const chunk of req) {
        bytes += (chunk as Buffer).length;
        await new Promise((r) => setTimeout(r, ((chunk as Buffer).length * 1000) / READ_BYTES_PER_SECOND));
      }
    } catch {
      return; // the bus gave up on this attempt
    }
    received.push({ id: String(req.headers['lgsp-message-id']), bytes });
    res.writeHead(200).end();
  };
  const receiver = createServer((req, res) => void take(req, res));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => receiver.close(resolve)));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/lgsp/inbound`;

  const bus = await startEdocBus(t, {
    name: 'edxml-push-by-size',
    adjustRegistry: (seeds) => {
      const office = seeds.systems.find((s) => s.clientId === 'vp-ubnd-qlvb')!;
      office.endpoint = endpoint;
      office.documentDelivery = { mode: 'push', format: 'edxml' };
    },
    // A 1 s answer time; the time for the body comes on top (transferBytesPerSecond's default).
    connectorConfig: { 'document-management': { timeoutMs: TIMEOUT_MS } },
  });
  const sender = bus.client('so-tttt-qlvb');
  await sender.accessToken();
  const res = await fetch(`${bus.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await sender.accessToken()}`, 'content-type': 'application/xml' },
    body: packageWith(randomBytes(6 * 1024 * 1024)),
  });
  const accepted = (await res.json()) as { id: string };
  t.equal(res.status, 202, 'accepted');

  let timeline: { status: string; events: { event: string; detail?: { reason?: string } }[] } | undefined;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    timeline = (await sender.status(accepted.id)).body as typeof timeline;
    if (timeline && ['delivered', 'dead_lettered'].includes(timeline.status)) break;
    if (timeline?.events.some((e) => e.event === 'delivery_failed')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const failures = (timeline?.events ?? []).filter((e) => e.event === 'delivery_failed').map((e) => e.detail?.reason);
  t.same(failures, [], 'no attempt timed out');
  t.equal(timeline?.status, 'delivered', 'delivered');
  t.equal(received.length, 1, 'the receiver got the package once');
  t.ok(received[0].bytes > (3 * READ_BYTES_PER_SECOND * TIMEOUT_MS) / 1000, `a body it took over three times the fixed timeout to read (${received[0].bytes} bytes)`);
});
