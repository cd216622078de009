// kafkajs 2.2.4 keeps a 1 ms timer loop running on every broker connection, busy or idle
// (tulios/kafkajs#1556, #1704; fixes proposed in #1667 and #1768, none released): after each
// request, `RequestQueue.scheduleCheckPendingRequests` computes `throttledUntil - Date.now()`,
// which is negative when no throttle is in effect (throttledUntil starts at -1), and schedules
// `checkPendingRequests` that far ahead (Node clamps it to 1 ms); that check schedules the next
// one, forever. Every producer, consumer and admin connection of a process spins it: measured
// here, an idle gateway, runner and audit each burned 50–90 ms of CPU per second (about 0.1 ms per
// message at full load, far more at low rates), and the timers compete with real work for the
// event loop.
//
// The replacement schedules a check only when a request is actually waiting in the queue: at the
// end of a client-side throttle, or after the library's 10 ms interval when the queue waits for an
// in-flight slot (a fulfilled request checks the queue at once anyway). With nothing pending there
// is nothing to check: a request pushed later is either sent at once or schedules its own check.
// Patched on the prototype of the module kafkajs itself loads (one CommonJS instance per process).
import { createRequire } from 'node:module';

const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10; // kafkajs's own constant

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };

RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL_MS);
};

/** The patched method, for a test that checks kafkajs still uses it. */
export const patchedScheduleCheckPendingRequests = RequestQueue.prototype.scheduleCheckPendingRequests;
