// kafkajs 2.2.4 keeps the encoded bytes of every request until the broker answers it: the
// request queue holds the request's `sendRequest` closure (it writes the encoded buffer to the
// socket) for as long as the request is in flight, and that closure keeps the buffer reachable.
// For a produce request that buffer is the whole batch, in a power-of-two sized allocation (a
// 1 MB batch holds 2 MB), and it outlives the write by the broker's acks=all round trip — long
// enough for the garbage collector to promote it out of the young generation, after which it is
// freed only by a full collection. Measured in the bench's 100 KiB phase: the gateway's external
// memory peaked at 62 MB, most of its RSS above the 200 MB target.
//
// The wrapper below lets the queue call `sendRequest` exactly once, as it does (a request is sent
// from the pending state only), and then forgets it, so the encoded bytes become garbage as soon
// as the socket has taken them and die young. Nothing reads them after the write: a retried
// request is encoded again by kafkajs's retrier.
// Patched on the prototype of the module kafkajs itself loads (one CommonJS instance per process).
import { createRequire } from 'node:module';

interface PushedRequest {
  sendRequest(): void;
}

interface RequestQueueInternals {
  push(pushedRequest: PushedRequest): void;
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };
const push = RequestQueue.prototype.push;

RequestQueue.prototype.push = function pushForgettingSentBytes(this: RequestQueueInternals, pushedRequest: PushedRequest): void {
  let send: (() => void) | null = pushedRequest.sendRequest;
  pushedRequest.sendRequest = () => {
    const once = send;
    send = null;
    once?.();
  };
  push.call(this, pushedRequest);
};

/** The patched method, for a test that checks kafkajs still uses it. */
export const patchedPush = RequestQueue.prototype.push;
