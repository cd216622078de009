// kafkajs-request-queue-fix.ts: no timer loop on an idle connection, while requests that must
// wait (a client-side throttle, a full in-flight window) still go out. The first test counts the
// queue's checks on real broker connections; with kafkajs's own scheduler it counts hundreds
// per second per connection, so it fails if the patch stops applying (a kafkajs upgrade).
import t from 'tap';
import { createRequire } from 'node:module';
import { patchedScheduleCheckPendingRequests } from '../services/platform/kafkajs-request-queue-fix.js';
import { testKafka } from './helpers/test-kafka.js';

interface QueueForTest {
  pending: unknown[];
  throttledUntil: number;
  push(request: { entry: { correlationId: number; apiName: string; apiKey: number; apiVersion: number; resolve(): void; reject(): void }; expectResponse: boolean; sendRequest(): void }): void;
  fulfillRequest(response: { correlationId: number; payload: unknown; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}
const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { new (opts: Record<string, unknown>): QueueForTest; prototype: QueueForTest };
const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function queue(maxInFlightRequests: number | null = null): QueueForTest {
  return new RequestQueue({ instrumentationEmitter: null, maxInFlightRequests, requestTimeout: 5000, enforceRequestTimeout: false, clientId: 'test', broker: 'test:0', logger: quietLogger });
}

function request(correlationId: number, sent: number[]) {
  return { entry: { correlationId, apiName: 'Produce', apiKey: 0, apiVersion: 7, resolve: () => undefined, reject: () => undefined }, expectResponse: true, sendRequest: () => void sent.push(correlationId) };
}

t.test('kafkajs uses the patched scheduler', async (t) => {
  t.equal(RequestQueue.prototype.scheduleCheckPendingRequests, patchedScheduleCheckPendingRequests);
});

t.test('an idle producer connection checks its request queue no more', async (t) => {
  const producer = testKafka('request-queue-idle').producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic: `request-queue-idle-${Date.now()}`, messages: [{ value: 'x' }] }).catch(() => undefined);
  const original = RequestQueue.prototype.checkPendingRequests;
  let checks = 0;
  RequestQueue.prototype.checkPendingRequests = function (this: QueueForTest) {
    checks += 1;
    return original.call(this);
  };
  t.teardown(() => {
    RequestQueue.prototype.checkPendingRequests = original;
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Unpatched, each connection checks about every millisecond (hundreds here).
  t.ok(checks < 5, `queue checks in 500 ms of idleness: ${checks}`);
});

t.test('a request held by a client-side throttle goes out when the throttle ends', async (t) => {
  const q = queue();
  t.teardown(() => q.destroy());
  const sent: number[] = [];
  q.maybeThrottle(60);
  const pushedAt = Date.now();
  q.push(request(1, sent));
  t.same(sent, [], 'held while throttled');
  while (sent.length === 0 && Date.now() - pushedAt < 2000) await new Promise((resolve) => setTimeout(resolve, 5));
  t.same(sent, [1], 'sent after the throttle');
  t.ok(Date.now() - pushedAt >= 55, 'not before the throttle ended');
});

t.test('a request waiting for an in-flight slot goes out when a response frees one', async (t) => {
  const q = queue(1);
  t.teardown(() => q.destroy());
  const sent: number[] = [];
  q.push(request(1, sent));
  q.push(request(2, sent));
  t.same(sent, [1], 'the second waits for the window');
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  t.same(sent, [1, 2], 'sent as soon as the first was answered');
  q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
  t.equal(q.pending.length, 0);
});
