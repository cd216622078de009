// The destination agency system of the fault proof: receives relay deliveries and keeps one
// receipt per LGSP-Message-Id (the receiver-side dedupe the bus's at-least-once contract asks
// of agencies), counting every repeat as a duplicate. It can be taken down for real (the port is
// closed and open connections are cut, as when a host dies) and can refuse chosen messages with
// a permanent 4xx, which the bus must dead-letter with a reason. It lives in the chaos process,
// not the stack, so its receipts survive every fault the stack goes through.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receipt {
  /** First arrival, ms since epoch. */
  at: number;
  /** Arrivals of this id, the first included. */
  count: number;
}

export class ChaosReceiver {
  readonly receipts = new Map<string, Receipt>();
  duplicates = 0;
  /** Deliveries being handled right now (a kill "mid-batch" sees this above zero). */
  inFlight = 0;
  /** Arrival times of first receipts, for recovery times and delivery gaps. */
  private readonly arrivals: number[] = [];
  /** Correlation-id prefix refused with 422 (a permanent refusal), while set. */
  refusePrefix: string | null = null;
  refused = 0;
  private server: http.Server;
  private port = 0;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly latencyMs = 5) {
    this.server = this.makeServer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private makeServer(): http.Server {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.keepAliveTimeout = 5000;
    return server;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.end('{"status":"ok"}');
      return;
    }
    this.inFlight++;
    try {
      for await (const chunk of req) void chunk; // the body is the signed message; its id is in the header
      const id = String(req.headers['lgsp-message-id'] ?? '');
      const correlation = decodeURIComponent(String(req.headers['lgsp-correlation-id'] ?? ''));
      if (!id) {
        res.writeHead(400).end();
        return;
      }
      if (this.refusePrefix && correlation.startsWith(this.refusePrefix)) {
        this.refused++;
        res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":"refused by the chaos receiver"}');
        return;
      }
      // A little work per delivery, so deliveries overlap and a kill lands mid-batch.
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      const seen = this.receipts.get(id);
      if (seen) {
        seen.count++;
        this.duplicates++;
      } else {
        const at = Date.now();
        this.receipts.set(id, { at, count: 1 });
        this.arrivals.push(at);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"received":"${id}"}`);
    } finally {
      this.inFlight--;
    }
  }

  async start(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port || this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Down for real: the port refuses connections and open ones are cut. */
  async down(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = this.makeServer();
  }

  async up(): Promise<void> {
    await this.start(this.port);
  }

  stop(): Promise<void> {
    return this.down();
  }

  /** First receipt at or after `since` (ms since epoch), or null. */
  firstArrivalAfter(since: number): number | null {
    // Arrivals are pushed in time order: binary search.
    const i = this.firstIndexAtOrAfter(since);
    return i < this.arrivals.length ? this.arrivals[i] : null;
  }

  /** First receipts with from <= at < to. */
  receiptsBetween(from: number, to: number): number {
    const start = this.firstIndexAtOrAfter(from);
    const end = this.firstIndexAtOrAfter(to);
    return end - start;
  }

  private firstIndexAtOrAfter(since: number): number {
    let lo = 0;
    let hi = this.arrivals.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.arrivals[mid] < since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Longest time without a first receipt between `from` and `to` (ms). */
  longestGap(from: number, to: number): number {
    let last = from;
    let gap = 0;
    for (const at of this.arrivals) {
      if (at < from) continue;
      if (at > to) break;
      gap = Math.max(gap, at - last);
      last = at;
    }
    return Math.max(gap, to - last);
  }
}
