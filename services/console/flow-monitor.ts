// Live traffic figures for the flow view: per-second buckets over the last minute, fed by the
// events the console consumes. Only events whose own time falls in the window count, so the
// replay of history when a console starts (or catches up after a pause) does not show up as a
// burst of live traffic.
import type { BusEvent } from '../platform/bus-events.js';

const WINDOW_SECONDS = 60;
const RATE_SECONDS = 10;
const ERROR_EVENTS = new Set(['delivery_failed', 'dead_lettered', 'rejected']);

interface Counts {
  accepted: number;
  delivered: number;
  errors: number;
}

interface RouteKey {
  fromMember: string;
  toMember: string;
  service: string;
}

export interface RouteRate extends RouteKey, Counts {
  /** Accepted messages per second over the last 10 s. */
  perSecond: number;
  errorsPerSecond: number;
}

export interface FlowSnapshot {
  at: string;
  windowSeconds: number;
  /** Per second over the last 10 s. */
  rates: { accepted: number; delivered: number; errors: number };
  /** Totals over the last minute, by event name. */
  lastMinute: Record<string, number>;
  /** One point per second, oldest first, for sparklines. */
  series: { accepted: number[]; delivered: number[]; errors: number[] };
  routes: RouteRate[];
  services: { service: string; perSecond: number; errorsPerSecond: number; accepted: number; delivered: number; errors: number }[];
}

interface Bucket {
  second: number;
  events: Map<string, number>;
  routes: Map<string, Counts & RouteKey>;
}

export class FlowMonitor {
  private readonly buckets = new Map<number, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  record(events: BusEvent[]): void {
    const nowSecond = Math.floor(this.now() / 1000);
    for (const ev of events) {
      const second = Math.floor(Date.parse(ev.at) / 1000);
      // Slightly future times (clock skew between hosts) count as now.
      if (!(second > nowSecond - WINDOW_SECONDS)) continue;
      const bucket = this.bucket(Math.min(second, nowSecond));
      bucket.events.set(ev.event, (bucket.events.get(ev.event) ?? 0) + 1);
      if (!ev.to || !ev.from) continue;
      const key = `${ev.from.member}\u0000${ev.to.member}\u0000${ev.to.service}`;
      let route = bucket.routes.get(key);
      if (!route) bucket.routes.set(key, (route = { fromMember: ev.from.member, toMember: ev.to.member, service: ev.to.service, accepted: 0, delivered: 0, errors: 0 }));
      if (ev.event === 'accepted' || ev.event === 'replayed') route.accepted++;
      else if (ev.event === 'delivered') route.delivered++;
      else if (ERROR_EVENTS.has(ev.event)) route.errors++;
    }
    this.prune(nowSecond);
  }

  /** A record rejected by the runner has no trustworthy routing; it still counts as an error. */
  recordRejected(at: string): void {
    this.record([{ id: '', event: 'rejected', at, actor: 'runner' }]);
  }

  private bucket(second: number): Bucket {
    let b = this.buckets.get(second);
    if (!b) this.buckets.set(second, (b = { second, events: new Map(), routes: new Map() }));
    return b;
  }

  private prune(nowSecond: number): void {
    for (const second of this.buckets.keys()) if (second <= nowSecond - WINDOW_SECONDS) this.buckets.delete(second);
  }

  snapshot(): FlowSnapshot {
    const nowSecond = Math.floor(this.now() / 1000);
    this.prune(nowSecond);
    const series = { accepted: [] as number[], delivered: [] as number[], errors: [] as number[] };
    const lastMinute: Record<string, number> = {};
    const routes = new Map<string, Counts & RouteKey & { recentAccepted: number; recentErrors: number }>();
    const rates = { accepted: 0, delivered: 0, errors: 0 };
    for (let s = nowSecond - WINDOW_SECONDS + 1; s <= nowSecond; s++) {
      const b = this.buckets.get(s);
      const recent = s > nowSecond - RATE_SECONDS;
      const accepted = (b?.events.get('accepted') ?? 0) + (b?.events.get('replayed') ?? 0);
      const delivered = b?.events.get('delivered') ?? 0;
      let errors = 0;
      for (const name of ERROR_EVENTS) errors += b?.events.get(name) ?? 0;
      series.accepted.push(accepted);
      series.delivered.push(delivered);
      series.errors.push(errors);
      if (recent) {
        rates.accepted += accepted;
        rates.delivered += delivered;
        rates.errors += errors;
      }
      if (!b) continue;
      for (const [name, n] of b.events) lastMinute[name] = (lastMinute[name] ?? 0) + n;
      for (const [key, r] of b.routes) {
        let agg = routes.get(key);
        if (!agg) routes.set(key, (agg = { ...r, accepted: 0, delivered: 0, errors: 0, recentAccepted: 0, recentErrors: 0 }));
        agg.accepted += r.accepted;
        agg.delivered += r.delivered;
        agg.errors += r.errors;
        if (recent) {
          agg.recentAccepted += r.accepted;
          agg.recentErrors += r.errors;
        }
      }
    }
    const perSecond = (n: number) => Math.round((n / RATE_SECONDS) * 100) / 100;
    const routeRates: RouteRate[] = [...routes.values()]
      .map(({ recentAccepted, recentErrors, ...r }) => ({ ...r, perSecond: perSecond(recentAccepted), errorsPerSecond: perSecond(recentErrors) }))
      .sort((a, b) => b.accepted + b.errors - (a.accepted + a.errors));
    const services = new Map<string, FlowSnapshot['services'][number]>();
    for (const r of routeRates) {
      const s = services.get(r.service) ?? { service: r.service, perSecond: 0, errorsPerSecond: 0, accepted: 0, delivered: 0, errors: 0 };
      s.perSecond = Math.round((s.perSecond + r.perSecond) * 100) / 100;
      s.errorsPerSecond = Math.round((s.errorsPerSecond + r.errorsPerSecond) * 100) / 100;
      s.accepted += r.accepted;
      s.delivered += r.delivered;
      s.errors += r.errors;
      services.set(r.service, s);
    }
    return {
      at: new Date(this.now()).toISOString(),
      windowSeconds: WINDOW_SECONDS,
      rates: { accepted: perSecond(rates.accepted), delivered: perSecond(rates.delivered), errors: perSecond(rates.errors) },
      lastMinute,
      series,
      routes: routeRates.slice(0, 50),
      services: [...services.values()].sort((a, b) => a.service.localeCompare(b.service)),
    };
  }
}
