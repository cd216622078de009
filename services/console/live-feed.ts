// The live view's server-sent events: once a second every connected operator gets the flow
// snapshot (rates per route and service, errors, consumer lag) and the messages that changed
// since the previous tick. Nothing is computed while nobody watches.
import type { FastifyReply } from 'fastify';
import type { GroupLag, LagMonitor } from './consumer-lag.js';
import type { FlowMonitor, FlowSnapshot } from './flow-monitor.js';
import type { IndexHealth } from './index-follower.js';
import type { MessageIndex, MessageRow } from './message-index.js';

export interface LiveTick extends FlowSnapshot {
  lag: GroupLag[];
  messages: MessageRow[];
  /**
   * Whether the figures are current: the flows are counted from the message index in
   * PostgreSQL, so while it cannot be read they stand still (or fall to zero) whatever the bus
   * does, and the page must say so rather than show them as live. Null: not known.
   */
  index: IndexHealth | null;
}

const MAX_MESSAGES_PER_TICK = 50;

export class LiveFeed {
  private readonly clients = new Set<FastifyReply>();
  private changed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;

  constructor(
    private readonly monitor: FlowMonitor,
    private readonly lag: LagMonitor,
    private readonly index: MessageIndex,
    private readonly intervalMs = 1000,
    private readonly indexHealth: () => IndexHealth | null = () => null,
  ) {}

  /** The figures without the changed messages (which need reads of the index). */
  private snapshot(): LiveTick {
    return { ...this.monitor.snapshot(), lag: this.lag.lags, messages: [], index: this.indexHealth() };
  }

  messagesChanged(ids: Set<string>): void {
    if (this.clients.size === 0) return;
    for (const id of ids) this.changed.add(id);
  }

  async tick(): Promise<LiveTick> {
    const ids = [...this.changed];
    this.changed = new Set();
    const messages = (await Promise.all(ids.slice(-MAX_MESSAGES_PER_TICK).map((id) => this.index.get(id)))).filter((m): m is MessageRow => m !== null);
    return { ...this.snapshot(), messages };
  }

  /** Takes over the reply as an event stream until the client goes away or the console stops. */
  attach(reply: FastifyReply): void {
    // A hijacked reply is written by hand: the headers Fastify gathered for it (every answer's
    // security headers, problem-handler.ts) would be dropped, so they are written here too.
    const gathered = Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, v]) => v !== undefined)) as Record<string, number | string | string[]>;
    reply.hijack();
    reply.raw.writeHead(200, {
      ...gathered,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Reconnect after 2 s if the stream drops (console restart); first frame at once.
    reply.raw.write(`retry: 2000\n\n`);
    this.clients.add(reply);
    reply.raw.on('close', () => this.clients.delete(reply));
    this.send(reply, this.snapshot());
    if (!this.timer) {
      this.timer = setInterval(() => this.broadcast(), this.intervalMs);
      this.timer.unref();
    }
  }

  private send(reply: FastifyReply, data: LiveTick): void {
    reply.raw.write(`event: tick\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private broadcast(): void {
    if (this.clients.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.changed.clear();
      return;
    }
    // A tick still reading (PostgreSQL slow) is not overlapped by the next one; the figures and
    // whether they are current still go out every second, so a hung database shows as such.
    if (this.ticking) {
      const data = this.snapshot();
      for (const client of this.clients) this.send(client, data);
      return;
    }
    this.ticking = true;
    this.tick()
      .then((data) => {
        for (const client of this.clients) this.send(client, data);
      })
      // PostgreSQL away: this tick's changes are skipped; flows and lag come again next second.
      .catch(() => undefined)
      .finally(() => {
        this.ticking = false;
      });
  }

  get watchers(): number {
    return this.clients.size;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const client of this.clients) client.raw.end();
    this.clients.clear();
  }
}
