// A fetch window for consumers on the message path: while records keep coming, the next fetch
// asks the broker to wait up to `ms` for `minBytes` (a batch), and after a fetch that found
// nothing it goes back to the consumer's own settings (minBytes 1: a lone record goes at once).
//
// Why: on this product's machine kind (a 2-vCPU VM) a process that wakes from idle pays about
// 0.18 ms of CPU per wake-up whatever it then does (test/bench/wakeup-cost.ts: an empty timer
// tick 0.18 ms, a loopback round trip 0.37 ms for both ends), and an empty kafkajs fetch about
// 1.5 ms. At moderate rates every record was its own fetch, and its own round of ledger
// statements and outcome produce behind it: the runner spent 3–3.6 ms of CPU per 1 KiB message at
// 150 msg/s against 1.0 at full load. With a 10 ms window the runner's fetches per message
// halved there (README, Performance); at full load the backlog exceeds minBytes and the broker
// answers at once, so nothing changes.
//
// kafkajs reads `minBytes` and `maxWaitTime` from its ConsumerGroup on every fetch but has no API
// to change them, so ConsumerGroup.prototype.fetch is wrapped (the CommonJS instance kafkajs
// itself loads), for the groups that asked for a window only.
import { createRequire } from 'node:module';

export interface FetchWindow {
  /** How long a fetch may wait for `minBytes` while records keep coming (ms). */
  ms: number;
  /** Bytes that end the wait early. */
  minBytes: number;
}

interface ConsumerGroupInternals {
  groupId: string;
  minBytes: number;
  maxWaitTime: number;
  fetch(nodeId: number): Promise<Array<{ isEmpty(): boolean }>>;
}

/** A window and the consumer's own settings, which apply again after an empty fetch. */
interface WindowState {
  window: FetchWindow;
  idle: { minBytes: number; maxWaitTime: number };
}

const require = createRequire(import.meta.url);
const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: ConsumerGroupInternals };
const windows = new Map<string, WindowState>();

const originalFetch = ConsumerGroup.prototype.fetch;
ConsumerGroup.prototype.fetch = async function fetchWithWindow(this: ConsumerGroupInternals, nodeId: number) {
  const state = windows.get(this.groupId);
  if (!state) return originalFetch.call(this, nodeId);
  const batches = await originalFetch.call(this, nodeId);
  const busy = batches.some((b) => !b.isEmpty());
  this.minBytes = busy ? Math.max(state.idle.minBytes, state.window.minBytes) : state.idle.minBytes;
  this.maxWaitTime = busy ? state.window.ms : state.idle.maxWaitTime;
  return batches;
};

/**
 * Gives every consumer of `groupId` in this process a fetch window (null or ms 0: none); `idle`
 * is what the consumer was created with, restored after an empty fetch.
 */
export function setFetchWindow(groupId: string, window: FetchWindow | null, idle: { minBytes: number; maxWaitTimeInMs: number }): void {
  if (!window || window.ms <= 0) windows.delete(groupId);
  else windows.set(groupId, { window, idle: { minBytes: idle.minBytes, maxWaitTime: idle.maxWaitTimeInMs } });
}

/** The patched method, for a test that checks kafkajs still calls it. */
export const patchedConsumerGroupFetch = ConsumerGroup.prototype.fetch;
