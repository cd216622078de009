// An attachment download is held whole in the gateway's memory until its client has read it. A
// client that opened downloads and read nothing grew the gateway by the file's size for each
// (ten paused downloads of a 20 MB file took 240 MB), bounded only by the idle timeout. Downloads
// now count against the gateway's budget for bodies in flight (LGSP_MAX_INFLIGHT_BODY_BYTES)
// until they are read or their connection drops: past it, 503 GATEWAY_BUSY with Retry-After.
import t from 'tap';
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { startTestBus } from './helpers/test-bus.js';

const SIZE = 18 * 1024 * 1024;

t.test('a paused download holds its bytes against the budget until its connection closes', async (t) => {
  const bus = await startTestBus(t, { name: 'attachment-download-budget', runner: false, config: { maxInflightBodyBytes: 24 * 1024 * 1024 } });
  const token = await bus.client('vp-ubnd-qlvb').accessToken();
  const bytes = randomBytes(SIZE);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const upload = await fetch(`${bus.gateway.url}/v1/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  t.equal(upload.status, 201);
  const download = () => fetch(`${bus.gateway.url}/v1/attachments/${sha256}`, { headers: { authorization: `Bearer ${token}` } });

  // A client that asks and then reads nothing: the answer cannot be written out past the
  // socket buffers, so the gateway holds it.
  const { hostname, port } = new URL(bus.gateway.url);
  const paused = connect({ host: hostname, port: Number(port) });
  t.teardown(() => paused.destroy());
  await new Promise<void>((resolve) => paused.once('connect', resolve));
  paused.pause();
  paused.write(`GET /v1/attachments/${sha256} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 1000));

  const refused = await download();
  t.equal(refused.status, 503, 'a second whole download does not fit beside the paused one');
  t.equal(refused.headers.get('retry-after'), '1');
  t.match(await refused.json(), { code: 'GATEWAY_BUSY', detail: /downloads not yet read/ });

  paused.destroy();
  let again = await download();
  for (let i = 0; i < 50 && again.status === 503; i++) {
    await again.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    again = await download();
  }
  t.equal(again.status, 200, 'once the paused client is gone, the download goes');
  const got = Buffer.from(await again.arrayBuffer());
  t.equal(got.length, SIZE);
  t.equal(createHash('sha256').update(got).digest('hex'), sha256, 'the bytes themselves');
});
