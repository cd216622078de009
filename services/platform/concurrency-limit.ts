// At most `limit` of something at a time, the rest waiting in order; beyond `maxQueued` waiting,
// new callers are refused at once (the caller answers 503 rather than queue without bound).
export class ConcurrencyLimitFull extends Error {
  override name = 'ConcurrencyLimitFull';
}

export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueued = Infinity,
    private readonly full: () => Error = () => new ConcurrencyLimitFull('too many waiting'),
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
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
