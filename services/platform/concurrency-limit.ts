// At most `limit` of something at a time, the rest waiting in order; beyond `maxQueued` waiting,
// new callers are refused at once, and a caller not served within `maxWaitMs` is refused then
// (the caller answers 503 rather than queue without bound, in number or in time).
export class ConcurrencyLimitFull extends Error {
  override name = 'ConcurrencyLimitFull';
}

interface Waiter {
  resolve(): void;
  timer?: NodeJS.Timeout;
}

export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueued = Infinity,
    private readonly full: () => Error = () => new ConcurrencyLimitFull('too many waiting'),
    readonly maxWaitMs = Infinity,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxQueued) return Promise.reject(this.full());
    // release() hands its slot straight to the next waiter, so `running` stays as it is.
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve };
      if (Number.isFinite(this.maxWaitMs)) {
        waiter.timer = setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(this.full());
        }, this.maxWaitMs);
      }
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (!next) {
      this.running--;
      return;
    }
    clearTimeout(next.timer);
    next.resolve();
  }
}
