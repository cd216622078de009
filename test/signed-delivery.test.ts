// Deliveries are bounded: a total deadline (a receiver trickling bytes cannot hold a worker) and
// a cap on how much of the receiver's answer is read; the signature names recipient and time.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { decodeProtectedHeader } from 'jose';
import { PlatformKeystore } from '../services/platform/keystore.js';
import { deliverSigned, RESPONSE_CAP_BYTES } from '../services/platform/signed-delivery.js';
import { createEnvelope } from '../services/platform/envelope.js';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/in`, server };
}

t.test('delivery deadline, response cap, iat, aud and svc', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const envelope = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'a' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 's', body: 'b' } });
  let lastBody = '';
  const timers: NodeJS.Timeout[] = [];
  const trickle = await listen((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      lastBody = raw;
      res.writeHead(200, { 'content-type': 'text/plain' });
      // One byte every 100 ms, forever: never idle long enough for an idle timeout.
      timers.push(setInterval(() => res.write('x'), 100));
    });
  });
  const huge = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('y'.repeat(10 * 1024 * 1024));
    });
  });
  t.teardown(() => {
    for (const timer of timers) clearInterval(timer);
    trickle.server.closeAllConnections();
    trickle.server.close();
    huge.server.close();
  });

  const started = Date.now();
  const trickled = await deliverSigned({ url: trickle.url, envelope, timeoutMs: 1000 }, keystore.signingKey, 10_000, new AbortController().signal).catch((err: Error) => err);
  const took = Date.now() - started;
  t.ok(took < 3000, `a trickling receiver is cut off at the deadline (${took} ms)`);
  t.match(trickled, { status: 200 }, 'its 2xx still counts as the receipt');

  const header = decodeProtectedHeader(lastBody);
  t.equal(header.aud, '000.00.15.H49', 'aud: the recipient member');
  t.equal(header.svc, 'notice', 'svc: the service the message is for (another system of the same member can refuse it)');
  t.ok(typeof header.iat === 'number' && Math.abs(Date.now() / 1000 - (header.iat as number)) < 60, 'iat: when it was signed');

  const big = await deliverSigned({ url: huge.url, envelope }, keystore.signingKey, 10_000, new AbortController().signal);
  t.equal(big.status, 200);
  t.ok(typeof big.body === 'string' && big.body.length <= RESPONSE_CAP_BYTES, `at most ${RESPONSE_CAP_BYTES} bytes of the answer are read (${String(big.body).length})`);
});

t.test('a silent receiver fails at the deadline; a stopping runner aborts at once', async (t) => {
  const keystore = await PlatformKeystore.ephemeral();
  const envelope = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'a' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 's', body: 'b' } });
  // Reads the request and never answers.
  const silent = await listen((req) => req.resume());
  t.teardown(() => {
    silent.server.closeAllConnections();
    silent.server.close();
  });

  let started = Date.now();
  const timedOut = await deliverSigned({ url: silent.url, envelope, timeoutMs: 300 }, keystore.signingKey, 10_000, new AbortController().signal).catch((err: Error) => err);
  t.match(timedOut, { name: 'RetryableError', message: /did not complete within 300 ms/ }, 'a retryable timeout naming the deadline');
  t.ok(Date.now() - started < 2000, `ended at the deadline (${Date.now() - started} ms)`);

  const stop = new AbortController();
  started = Date.now();
  const pending = deliverSigned({ url: silent.url, envelope, timeoutMs: 10_000 }, keystore.signingKey, 10_000, stop.signal).catch((err: Error) => err);
  setTimeout(() => stop.abort(), 100);
  const aborted = await pending;
  t.match(aborted, { name: 'RetryableError' }, 'retryable: the next runner delivers it');
  t.notMatch((aborted as Error).message, /did not complete within/, 'not reported as a receiver timeout');
  t.ok(Date.now() - started < 2000, `aborted without waiting for the deadline (${Date.now() - started} ms)`);

  const already = await deliverSigned({ url: silent.url, envelope }, keystore.signingKey, 10_000, stop.signal).catch((err: Error) => err);
  t.match(already, { name: 'RetryableError' }, 'an already stopped runner does not start a delivery that waits');
});

t.test('a running attempt cuts its delivery in flight off when it is abandoned, without an AbortSignal per message', async (t) => {
  const { AttemptTimeLimit } = await import('../services/platform/attempt-time-limit.js');
  const keystore = await PlatformKeystore.ephemeral();
  const envelope = createEnvelope({ type: 'notice.send', from: { member: '000.00.12.H49', system: 'a' }, to: { member: '000.00.15.H49', service: 'notice' }, data: { subject: 's', body: 'b' } });
  let held = 0;
  const silent = await listen((req) => { held++; req.resume(); });
  t.teardown(() => { silent.server.closeAllConnections(); silent.server.close(); });
  const limit = new AttemptTimeLimit(200, new AbortController().signal);
  t.teardown(() => limit.stop());
  let delivery!: Promise<unknown>;
  const began = Date.now();
  await t.rejects(limit.run((attempt) => {
    delivery = deliverSigned({ url: silent.url, envelope, timeoutMs: 10_000 }, keystore.signingKey, 10_000, attempt).catch((err: Error) => err);
    return delivery;
  }), /attempt was abandoned/);
  const err = (await delivery) as Error;
  t.ok(err instanceof Error, 'the delivery failed rather than waiting for its 10 s deadline');
  t.ok(Date.now() - began < 3000, `cut off soon after the limit (${Date.now() - began} ms)`);
  t.equal(held, 1, 'the receiver had the request in flight');
});
