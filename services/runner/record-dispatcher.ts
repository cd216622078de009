// Decides when each consumed record is handled, so that no record waits behind one it does not
// depend on. The Kafka consumer hands records over and goes back to fetching at once; here:
// - a retry waits for its due time in a timer heap, not in the fetch loop: fresh records, other
//   services of the connector and retries due sooner go past it;
// - records with the same key (recipient + correlation id) never run at the same time, and run
//   in the order they arrived;
// - no service (lane) may take every delivery slot: a burst of slow calls to one service leaves
//   slots for the others (request/reply stays fast during a retry storm);
// - a record that waits for an earlier message of its key (WaitForEarlierMessage) is released as
//   soon as a message with that key succeeds, not on its backoff;
// - parked records of one group (their destination) can be released at once, when the
//   destination is reachable again (destination-circuit.ts).

export interface Dispatchable {
  /** Ordering key: records with the same key run one at a time. */
  key: string;
  /** Delivery slots are shared fairly between lanes (the service a record is addressed to). */
  lane: string;
  /** Epoch ms before which the record must not run (0 = at once). */
  dueAt: number;
  /** Records released together run in this order (e.g. a time-ordered message id). */
  order?: string;
  /** Released early when a record with the same key succeeds after `attemptedAt`. */
  waitsForEarlier?: { attemptedAt: number };
  /** Bytes the record holds, counted while it is parked (the parked-memory cap). */
  size?: number;
  /** Parked records of a group can be released together (releaseGroup). */
  group?: string;
}

export interface DispatcherOptions<T> {
  concurrency: number;
  /** How many lanes (services) there are: with more than one, none may take every slot. */
  lanes: number;
  /** Runs one record; resolves true when it succeeded (which releases waiting records of its key). */
  run(item: T): Promise<boolean>;
  now?: () => number;
}

/** How many successes per key are remembered for records still on their way back from the retry topic. */
const SUCCESS_MEMORY = 10_000;

export class RecordDispatcher<T extends Dispatchable> {
  private readonly ready = new Map<string, T[]>();
  private readonly runningByLane = new Map<string, number>();
  /** Keys running now, each with the records of that key that arrived meanwhile, in order. */
  private readonly busyKeys = new Map<string, T[]>();
  private heap: T[] = [];
  private readonly parkedByKey = new Map<string, Set<T>>();
  private readonly parked = new Set<T>();
  private readonly parkedByGroup = new Map<string, Set<T>>();
  private parkedSize = 0;
  private readonly lastSuccess = new Map<string, number>();
  private running = 0;
  private queued = 0;
  private laneCursor = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private paused = false;
  private stopped = false;
  private readonly settled: Array<() => void> = [];
  private readonly now: () => number;

  constructor(private readonly opts: DispatcherOptions<T>) {
    this.now = opts.now ?? Date.now;
  }

  /** Records waiting to run or running (parked retries not counted). */
  get pending(): number {
    return this.queued + this.running;
  }

  get parkedCount(): number {
    return this.parked.size;
  }

  /** Bytes held by parked records (their `size`). */
  get parkedBytes(): number {
    return this.parkedSize;
  }

  get runningCount(): number {
    return this.running;
  }

  add(item: T): void {
    if (this.stopped) return;
    const success = item.waitsForEarlier ? this.lastSuccess.get(item.key) : undefined;
    if (success !== undefined && success >= item.waitsForEarlier!.attemptedAt) item.dueAt = 0;
    if (item.dueAt > this.now()) this.park(item);
    else this.enqueue(item);
    this.pump();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Forgets every record not yet started (after a rebalance, or when stopping). Running ones finish. */
  clear(): void {
    this.ready.clear();
    this.busyKeys.forEach((_, key) => this.busyKeys.set(key, []));
    this.queued = 0;
    this.heap = [];
    this.parked.clear();
    this.parkedByKey.clear();
    this.parkedByGroup.clear();
    this.parkedSize = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  /** Resolves when nothing is running. */
  idle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((r) => this.settled.push(r));
  }

  private enqueue(item: T): void {
    let lane = this.ready.get(item.lane);
    if (!lane) this.ready.set(item.lane, (lane = []));
    lane.push(item);
    this.queued++;
  }

  /** Every parked record of `group` runs now (its heap entries are skipped when popped). */
  releaseGroup(group: string): number {
    const members = this.parkedByGroup.get(group);
    if (!members) return 0;
    const released = [...members].sort((a, b) => a.dueAt - b.dueAt);
    for (const item of released) {
      this.unpark(item);
      this.enqueue(item);
    }
    this.pump();
    return released.length;
  }

  private park(item: T): void {
    this.parked.add(item);
    this.parkedSize += item.size ?? 0;
    if (item.group !== undefined) {
      let members = this.parkedByGroup.get(item.group);
      if (!members) this.parkedByGroup.set(item.group, (members = new Set()));
      members.add(item);
    }
    if (item.waitsForEarlier) {
      let set = this.parkedByKey.get(item.key);
      if (!set) this.parkedByKey.set(item.key, (set = new Set()));
      set.add(item);
    }
    this.heapPush(item);
    this.armTimer();
  }

  private unpark(item: T): void {
    if (!this.parked.delete(item)) return;
    this.parkedSize -= item.size ?? 0;
    if (item.group !== undefined) {
      const members = this.parkedByGroup.get(item.group);
      members?.delete(item);
      if (members?.size === 0) this.parkedByGroup.delete(item.group);
    }
    const set = this.parkedByKey.get(item.key);
    if (set) {
      set.delete(item);
      if (set.size === 0) this.parkedByKey.delete(item.key);
    }
  }

  /**
   * With more than one lane, a lane may use at most three quarters of the slots: the rest stay
   * free for the other services even while slow calls would hold every slot.
   */
  private laneLimit(): number {
    return this.opts.concurrency < 4 || this.opts.lanes < 2 ? this.opts.concurrency : Math.ceil((this.opts.concurrency * 3) / 4);
  }

  private pump(): void {
    if (this.paused || this.stopped) return;
    while (this.running < this.opts.concurrency && this.queued > 0) {
      const item = this.nextReady();
      if (!item) return;
      this.start(item);
    }
  }

  /** The next runnable record, lanes taken in turn; records of a busy key wait behind it. */
  private nextReady(): T | undefined {
    const lanes = [...this.ready.keys()];
    const limit = this.laneLimit();
    for (let i = 0; i < lanes.length; i++) {
      const name = lanes[(this.laneCursor + i) % lanes.length];
      if ((this.runningByLane.get(name) ?? 0) >= limit) continue;
      const queue = this.ready.get(name)!;
      while (queue.length > 0) {
        const item = queue.shift()!;
        this.queued--;
        const waiting = this.busyKeys.get(item.key);
        if (waiting) {
          waiting.push(item);
          continue;
        }
        if (queue.length === 0) this.ready.delete(name);
        this.laneCursor = (this.laneCursor + i + 1) % Math.max(1, lanes.length);
        return item;
      }
      this.ready.delete(name);
    }
    return undefined;
  }

  private start(item: T): void {
    this.running++;
    this.runningByLane.set(item.lane, (this.runningByLane.get(item.lane) ?? 0) + 1);
    this.busyKeys.set(item.key, []);
    this.opts.run(item).then(
      (succeeded) => this.finished(item, succeeded),
      () => this.finished(item, false),
    );
  }

  private finished(item: T, succeeded: boolean): void {
    this.running--;
    this.runningByLane.set(item.lane, this.runningByLane.get(item.lane)! - 1);
    const waiting = this.busyKeys.get(item.key) ?? [];
    this.busyKeys.delete(item.key);
    if (!this.stopped) {
      // Records of this key that arrived meanwhile go first, in their order.
      for (let i = waiting.length - 1; i >= 0; i--) {
        const w = waiting[i];
        let lane = this.ready.get(w.lane);
        if (!lane) this.ready.set(w.lane, (lane = []));
        lane.unshift(w);
        this.queued++;
      }
      if (succeeded) this.released(item.key);
    }
    if (this.running === 0) this.settled.splice(0).forEach((f) => f());
    this.pump();
  }

  /** A record of `key` succeeded: the records that waited for it go now. */
  private released(key: string): void {
    this.lastSuccess.delete(key);
    this.lastSuccess.set(key, this.now());
    if (this.lastSuccess.size > SUCCESS_MEMORY) this.lastSuccess.delete(this.lastSuccess.keys().next().value as string);
    const waiting = this.parkedByKey.get(key);
    if (!waiting) return;
    // (Their heap entries stay, skipped when popped: the heap is keyed on dueAt, left untouched.)
    for (const w of [...waiting].sort((a, b) => ((a.order ?? '') < (b.order ?? '') ? -1 : 1))) {
      this.unpark(w);
      this.enqueue(w);
    }
  }

  private armTimer(): void {
    while (this.heap.length > 0 && !this.parked.has(this.heap[0])) this.heapPop();
    const next = this.heap[0]?.dueAt ?? Infinity;
    if (next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    if (next === Infinity) {
      this.timer = null;
      return;
    }
    this.timer = setTimeout(() => this.due(), Math.max(0, next - this.now()));
  }

  private due(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && (this.heap[0].dueAt <= now || !this.parked.has(this.heap[0]))) {
      const item = this.heapPop()!;
      if (!this.parked.has(item)) continue;
      this.unpark(item);
      this.enqueue(item);
    }
    this.armTimer();
    this.pump();
  }

  private heapPush(item: T): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].dueAt <= h[i].dueAt) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private heapPop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].dueAt < h[m].dueAt) m = l;
        if (r < h.length && h[r].dueAt < h[m].dueAt) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
