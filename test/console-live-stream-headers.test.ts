// The live view's event stream is an answer like any other: it carries the security headers every
// answer of a bus service carries (problem-handler.ts). The stream is written by hand (a hijacked
// reply), which dropped them: no nosniff, X-Frame-Options, Content-Security-Policy or
// Referrer-Policy on the one answer that keeps flowing agency data for as long as it is open.
import t from 'tap';
import Fastify from 'fastify';
import { problemHandler } from '../services/platform/problem-handler.js';
import { ANSWER_SECURITY_HEADERS } from '../services/platform/security-headers.js';
import { FlowMonitor } from '../services/console/flow-monitor.js';
import { LiveFeed } from '../services/console/live-feed.js';
import type { LagMonitor } from '../services/console/consumer-lag.js';
import type { MessageIndex } from '../services/console/message-index.js';

t.test('the live event stream carries every answer\'s security headers', async (t) => {
  const feed = new LiveFeed(new FlowMonitor(), { lags: [] } as unknown as LagMonitor, { get: async () => null } as unknown as MessageIndex, 50);
  const app = Fastify();
  await app.register(problemHandler, { maxBodyBytes: 1024, mediaTypes: () => ['application/json'] });
  app.get('/v1/console/live', async (_req, reply) => feed.attach(reply));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(async () => {
    feed.close();
    await app.close();
  });
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/console/live`, { signal: controller.signal });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8', 'still an event stream');
  t.equal(res.headers.get('cache-control'), 'no-store');
  for (const [name, value] of Object.entries(ANSWER_SECURITY_HEADERS)) t.equal(res.headers.get(name), value, name);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  t.match(first, /^retry: 2000/, 'and streams as before');
  controller.abort();
});
