// The destination agency system for the benchmark: receives relay deliveries, counts unique
// and duplicate message ids, and records end-to-end latency from the `sentAt` the load
// generator stamped into the payload. It decodes but does not verify the JWS (verification is
// the receiver's cost, not the bus's; the tests cover it).
import Fastify from 'fastify';
import * as hdr from 'hdr-histogram-js';

const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
app.addContentTypeParser('application/jose', { parseAs: 'string' }, (_req, body, done) => done(null, body));
let seen = new Set<string>();
let duplicates = 0;
const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
let histogram = newHistogram();
// The end-to-end time split at the envelope's `time` (stamped by the gateway as it builds the
// envelope, before the produce): the intake side (client, HTTP, gateway) and the rest (produce,
// broker, runner, delivery), to say which side a latency tail comes from.
let intake = newHistogram();
let onward = newHistogram();

app.post('/:system', async (req) => {
  const jws = String(req.body);
  const payload = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as { id: string; time?: string; data?: { attributes?: { sentAt?: string } } };
  if (seen.has(payload.id)) duplicates++;
  else seen.add(payload.id);
  const sentAt = Number(payload.data?.attributes?.sentAt);
  const now = Date.now();
  if (sentAt > 0) histogram.recordValue(Math.max(1, (now - sentAt) * 1000));
  const stamped = payload.time ? Date.parse(payload.time) : NaN;
  if (sentAt > 0 && Number.isFinite(stamped)) {
    intake.recordValue(Math.max(1, (stamped - sentAt) * 1000));
    onward.recordValue(Math.max(1, (now - stamped) * 1000));
  }
  return { received: payload.id };
});

const percentiles = (h: typeof histogram) => ({
  p50: h.getValueAtPercentile(50) / 1000,
  p99: h.getValueAtPercentile(99) / 1000,
  p999: h.getValueAtPercentile(99.9) / 1000,
  max: h.maxValue / 1000,
  count: h.totalCount,
});

app.get('/stats', async () => ({
  unique: seen.size,
  duplicates,
  e2eMs: percentiles(histogram),
  intakeMs: percentiles(intake),
  onwardMs: percentiles(onward),
}));

app.post('/reset', async () => {
  seen = new Set();
  duplicates = 0;
  histogram = newHistogram();
  intake = newHistogram();
  onward = newHistogram();
  return { ok: true };
});

app.get('/healthz', async () => ({ status: 'ok' }));
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`sink listening on ${url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
