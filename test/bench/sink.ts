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
let histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

app.post('/:system', async (req) => {
  const jws = String(req.body);
  const payload = JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as { id: string; data?: { attributes?: { sentAt?: string } } };
  if (seen.has(payload.id)) duplicates++;
  else seen.add(payload.id);
  const sentAt = Number(payload.data?.attributes?.sentAt);
  if (sentAt > 0) histogram.recordValue(Math.max(1, (Date.now() - sentAt) * 1000));
  return { received: payload.id };
});

app.get('/stats', async () => ({
  unique: seen.size,
  duplicates,
  e2eMs: {
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    p999: histogram.getValueAtPercentile(99.9) / 1000,
    max: histogram.maxValue / 1000,
    count: histogram.totalCount,
  },
}));

app.post('/reset', async () => {
  seen = new Set();
  duplicates = 0;
  histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  return { ok: true };
});

app.get('/healthz', async () => ({ status: 'ok' }));
const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`sink listening on ${url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
