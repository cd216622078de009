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
// halved there (docs/measurements-log.md). The wait also ends once the broker holds minBytes (the
// runner's LGSP_RUNNER_FETCH_WINDOW_BYTES), so the window shortens as the rate grows: it trades
// CPU per message for latency at every rate a consumer keeps up with, full load included.
//
// Pacing, for consumers whose records matter only while somebody waits for them (the gateway's
// reply consumer: every gateway reads every reply, and keeps those its callers wait for). While
// nobody waits, their fetches are spaced `idleIntervalMs` apart instead of following each other
// every maxWaitTimeInMs (20 empty fetches a second at 50 ms, about 1.5 ms of the consumer's CPU
// and the broker's each, on every gateway, all day); `wakeFetches` ends the spacing at once when
// somebody starts waiting, before what they wait for can have been produced, so it costs them
// nothing. The position still moves on at every paced fetch: what piled up meanwhile (replies
// for other gateways) is at most one interval's worth.
//
// kafkajs reads `minBytes` and `maxWaitTime` from its ConsumerGroup on every fetch but has no API
// to change them or to hold a fetch, so ConsumerGroup.prototype.fetch is wrapped (the CommonJS
// instance kafkajs itself loads), for the groups that asked for a window or pacing only.
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

export interface FetchPacing {
  /** True while nobody needs the group's records soon: its fetches are then spaced out. */
  isIdle(): boolean;
  /** Time between the end of one fetch and the start of the next while idle (ms). */
  idleIntervalMs: number;
}

interface PacingState {
  pacing: FetchPacing;
  /** When each broker's fetch last ended (one fetch loop per broker). */
  lastFetchEnd: Map<number, number>;
  /** Fetches held back right now; wakeFetches releases them. */
  held: Set<() => void>;
}

const pacings = new Map<string, PacingState>();

/** Holds a fetch of an idle paced group until its interval is over or wakeFetches is called. */
function paced(state: PacingState, nodeId: number): Promise<void> | undefined {
  if (!state.pacing.isIdle()) return undefined;
  const wait = (state.lastFetchEnd.get(nodeId) ?? 0) + state.pacing.idleIntervalMs - Date.now();
  if (wait <= 0) return undefined;
  return new Promise<void>((resolve) => {
    const release = () => {
      clearTimeout(timer);
      state.held.delete(release);
      resolve();
    };
    const timer = setTimeout(release, wait);
    state.held.add(release);
  });
}

const originalFetch = ConsumerGroup.prototype.fetch;
ConsumerGroup.prototype.fetch = async function shapedFetch(this: ConsumerGroupInternals, nodeId: number) {
  const pacing = pacings.get(this.groupId);
  const window = windows.get(this.groupId);
  if (!pacing && !window) return originalFetch.call(this, nodeId);
  if (pacing) await paced(pacing, nodeId);
  try {
    const batches = await originalFetch.call(this, nodeId);
    if (window) {
      const busy = batches.some((b) => !b.isEmpty());
      this.minBytes = busy ? Math.max(window.idle.minBytes, window.window.minBytes) : window.idle.minBytes;
      this.maxWaitTime = busy ? window.window.ms : window.idle.maxWaitTime;
    }
    return batches;
  } finally {
    pacing?.lastFetchEnd.set(nodeId, Date.now());
  }
};

/**
 * Gives every consumer of `groupId` in this process a fetch window (null or ms 0: none); `idle`
 * is what the consumer was created with, restored after an empty fetch.
 */
export function setFetchWindow(groupId: string, window: FetchWindow | null, idle: { minBytes: number; maxWaitTimeInMs: number }): void {
  if (!window || window.ms <= 0) windows.delete(groupId);
  else windows.set(groupId, { window, idle: { minBytes: idle.minBytes, maxWaitTime: idle.maxWaitTimeInMs } });
}

/** Paces the fetches of every consumer of `groupId` in this process (null: no pacing). */
export function setFetchPacing(groupId: string, pacing: FetchPacing | null): void {
  const previous = pacings.get(groupId);
  if (previous) for (const release of [...previous.held]) release();
  if (pacing) pacings.set(groupId, { pacing, lastFetchEnd: new Map(), held: new Set() });
  else pacings.delete(groupId);
}

/** Somebody waits for `groupId`'s records now: a fetch held by its pacing starts at once. */
export function wakeFetches(groupId: string): void {
  const state = pacings.get(groupId);
  if (state) for (const release of [...state.held]) release();
}

/** The patched method, for a test that checks kafkajs still calls it. */
export const patchedConsumerGroupFetch = ConsumerGroup.prototype.fetch;
