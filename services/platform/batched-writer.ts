// Coalesces writes from concurrent requests into one statement per turn of the event loop:
// each caller awaits its own items, and all of them share one round trip to PostgreSQL. The
// same idea as the Kafka producer's micro-batching, for the rows a request must see written
// before it answers.
export class BatchedWriter<T> {
  private pending: { items: T[]; resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  write(items: T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending.push({ items, resolve, reject }) === 1) setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.flush(batch.flatMap((b) => b.items));
      for (const b of batch) b.resolve();
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}
