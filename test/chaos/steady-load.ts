// Steady load for the fault proof: notices submitted at a constant rate, round-robin over every
// gateway, from the chaos process itself. Only a 202 with an id counts as accepted — that is
// the bus's promise to keep; every other answer (503 during an outage, refused connections
// while a gateway restarts, timeouts) is counted by kind and is no promise at all. In-flight
// requests are capped so a stalled gateway does not pile up unbounded work on the box.
import { BusClient, type DevClientFile } from '../../services/platform/bus-client.js';

export interface Accepted {
  id: string;
  at: number;
  gateway: number;
  correlationId: string;
}

const MAX_IN_FLIGHT = 200;
const REQUEST_TIMEOUT_MS = 30_000;

export class SteadyLoad {
  readonly accepted: Accepted[] = [];
  readonly refusals = new Map<string, number>();
  skipped = 0;
  private inFlight = 0;
  private seq = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  private clients: BusClient[] = [];
  /** Correlation ids start with this (the chaos receiver can refuse a prefix). */
  prefix = 'CHAOS';

  constructor(
    gatewayUrls: string[],
    private readonly sender: DevClientFile,
    private readonly issuer: string,
    private readonly recipient = { member: '000.00.15.H49', service: 'notice' },
  ) {
    this.setGateways(gatewayUrls);
  }

  setGateways(urls: string[]): void {
    this.clients = urls.map((u) => new BusClient(u, this.sender, this.issuer));
  }

  get lastAcceptedAt(): number {
    return this.accepted.length ? this.accepted[this.accepted.length - 1].at : 0;
  }

  private count(kind: string): void {
    this.refusals.set(kind, (this.refusals.get(kind) ?? 0) + 1);
  }

  /** One submission through gateway `g`; resolves with its id when accepted. */
  async sendOne(g: number, correlationId: string): Promise<string | null> {
    this.inFlight++;
    try {
      const client = this.clients[g % this.clients.length];
      const r = await Promise.race([
        client.send({ type: 'notice.send', to: this.recipient, correlationId, payload: { subject: `Thông báo kiểm thử lỗi ${correlationId}`, body: 'Chứng minh không mất thông điệp khi có sự cố.' } }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), REQUEST_TIMEOUT_MS).unref()),
      ]);
      if (r.status === 202 && typeof (r.body as { id?: unknown })?.id === 'string') {
        const id = (r.body as { id: string }).id;
        this.accepted.push({ id, at: Date.now(), gateway: g, correlationId });
        return id;
      }
      this.count(`${r.status}${(r.body as { code?: string })?.code ? ` ${(r.body as { code: string }).code}` : ''}`);
    } catch (err) {
      this.count((err as Error).message === 'timeout' ? 'timeout' : 'connection error');
    } finally {
      this.inFlight--;
    }
    return null;
  }

  start(rate: number): void {
    if (this.running) return;
    this.running = true;
    const interval = 1000 / rate;
    this.loop = (async () => {
      let next = performance.now();
      while (this.running) {
        const now = performance.now();
        while (next <= now && this.running) {
          next += interval;
          if (this.inFlight >= MAX_IN_FLIGHT) {
            this.skipped++;
            continue;
          }
          const n = this.seq++;
          void this.sendOne(n, `${this.prefix}-${n}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }

  /** Stops sending and waits for the requests still out. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
  }
}
