// A client's rate limit counts its requests on every gateway, not on each one apart (DESIGN §5:
// rate limits per client; with N gateways behind a load balancer a per-gateway count let a client
// send N times its limit). Counting stays in memory, on the request's path as before; what is
// shared goes through PostgreSQL off that path, the way Kong's cluster-wide limits sync:
//
//  - windows are minutes of the clock (numbered from the epoch), the same on every gateway, so
//    their counts add up;
//  - every RATE_SYNC_MS a gateway that counted anything in the window writes its own count of each
//    client (the whole count, not an increment: a sync that is retried or lost counts nothing
//    twice) and reads the sum of the other gateways' counts, in one statement;
//  - a client's count is this gateway's own plus the others' as of the last sync.
//
// Between two syncs a client that spreads its requests over the gateways can pass its limit by
// what it sends to the others in that second. Without PostgreSQL each gateway goes on counting
// alone (the limit per gateway, as before) and says so in its log, once per outage. Requests
// without a client (counted by address) stay per gateway: an address flood must not become rows.
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';
import { prepared } from '../platform/prepared-statement.js';

/** The rate limits' window: a client's limit is per minute (registry `rateLimitPerMinute`). */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** How often a gateway shares its counts and learns the others'. */
export const RATE_SYNC_MS = 1000;

// Own counts in (absolute: GREATEST keeps the larger if an older sync lands late), the others'
// sums out. The SELECT does not see this statement's own rows, and skips them anyway.
const SYNC = prepared(`WITH own AS (
    INSERT INTO gateway_rate_counts (window_index, client_id, gateway, hits)
    SELECT $1, c.client_id, $2, c.hits FROM jsonb_to_recordset($3::jsonb) AS c(client_id text, hits integer)
    ON CONFLICT (window_index, client_id, gateway) DO UPDATE SET hits = GREATEST(gateway_rate_counts.hits, excluded.hits)
  )
  SELECT client_id, sum(hits)::integer AS hits FROM gateway_rate_counts WHERE window_index = $1 AND gateway <> $2 GROUP BY client_id`);
const FORGET_OLD_WINDOWS = prepared('DELETE FROM gateway_rate_counts WHERE window_index < $1');

/**
 * Counts per key in fixed windows of the clock; only the current window is kept, and at most
 * `maxKeys` keys of it (the oldest key is dropped first, as @fastify/rate-limit's own store does).
 */
export class WindowCounts {
  private window = -1;
  private counts = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** The current window's number, starting a new count when the clock moved into another. */
  windowAt(now: number): number {
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    return window;
  }

  hit(key: string, now: number): number {
    this.windowAt(now);
    const hits = (this.counts.get(key) ?? 0) + 1;
    if (hits === 1 && this.counts.size >= this.maxKeys) this.counts.delete(this.counts.keys().next().value as string);
    this.counts.set(key, hits);
    return hits;
  }

  /** The current window's counts. */
  all(now: number): { window: number; counts: ReadonlyMap<string, number> } {
    return { window: this.windowAt(now), counts: this.counts };
  }

  /** Milliseconds left in the window of `now`. */
  ttl(now: number): number {
    return (Math.floor(now / this.windowMs) + 1) * this.windowMs - now;
  }
}

/** What @fastify/rate-limit's store answers: the count so far and the ms left in its window. */
export interface RateCount {
  current: number;
  ttl: number;
}

export class ClusterRateCounts {
  private readonly own: WindowCounts;
  /** Of the own counts, what the last sync wrote, by client (of the window `sharedWindow`). */
  private shared = new Map<string, number>();
  private sharedWindow = -1;
  /** The other gateways' counts of the window `othersWindow`, by client. */
  private others = new Map<string, number>();
  private othersWindow = -1;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private failing = false;
  private forgotBefore = -1;

  constructor(
    private readonly db: Database,
    /** This gateway's instance id: its own rows. */
    private readonly gateway: string,
    private readonly log: Logger,
    windowMs: number,
  ) {
    this.own = new WindowCounts(windowMs, Number.MAX_SAFE_INTEGER);
  }

  start(): void {
    this.timer = setInterval(() => void this.sync(), RATE_SYNC_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.syncing;
  }

  /** Counts one request of `client`: its count on every gateway (the others' as of the last sync). */
  hit(client: string, now = Date.now()): RateCount {
    const own = this.own.hit(client, now);
    return { current: own + this.othersOf(client, now), ttl: this.own.ttl(now) };
  }

  private othersOf(client: string, now: number): number {
    return this.othersWindow === this.own.windowAt(now) ? (this.others.get(client) ?? 0) : 0;
  }

  /** Shares this gateway's counts of the current window and reads the others'; one sync at a time. */
  sync(now = Date.now()): Promise<void> {
    this.syncing ??= this.syncOnce(now).finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncOnce(now: number): Promise<void> {
    const { window, counts } = this.own.all(now);
    // A gateway that counted nobody in this window has nobody to give the others' counts to.
    if (counts.size === 0) return;
    if (this.sharedWindow !== window) {
      this.shared = new Map();
      this.sharedWindow = window;
    }
    const changed: { client_id: string; hits: number }[] = [];
    for (const [client, hits] of counts) if (hits > (this.shared.get(client) ?? 0)) changed.push({ client_id: client, hits });
    try {
      const { rows } = await this.db.query<{ client_id: string; hits: number }>(SYNC, [window, this.gateway, JSON.stringify(changed)]);
      if (this.sharedWindow === window) for (const { client_id: client, hits } of changed) this.shared.set(client, hits);
      this.others = new Map(rows.map((r) => [r.client_id, r.hits]));
      this.othersWindow = window;
      if (this.failing) this.log.warn('rate-limit counts shared again: clients are limited across every gateway');
      this.failing = false;
      // Rows of windows before the last are no longer read; any gateway may delete them.
      if (this.forgotBefore < window - 1) {
        this.forgotBefore = window - 1;
        await this.db.query(FORGET_OLD_WINDOWS, [window - 1]);
      }
    } catch (err) {
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'rate-limit counts cannot be shared (PostgreSQL): each client is limited per gateway until they can');
      this.failing = true;
    }
  }
}

type StoreCallback = (err: Error | null, result: RateCount) => void;

/**
 * A @fastify/rate-limit store: the keys `isClient` names are counted across the gateways
 * (`counts`); other keys (addresses) and the routes with a limit of their own (the token
 * endpoint's, by address) are counted by this gateway alone.
 */
export function sharedRateLimitStore(counts: ClusterRateCounts, isClient: (key: string) => boolean, windowMs: number) {
  return class SharedRateLimitStore {
    private readonly alone: WindowCounts;

    /** @fastify/rate-limit constructs the store with its options (not needed here). */
    constructor(_options?: unknown, private readonly acrossGateways = true, aloneWindowMs = windowMs) {
      this.alone = new WindowCounts(aloneWindowMs);
    }

    incr(key: string, cb: StoreCallback): void {
      if (this.acrossGateways && isClient(key)) return cb(null, counts.hit(key));
      const now = Date.now();
      cb(null, { current: this.alone.hit(key, now), ttl: this.alone.ttl(now) });
    }

    /**
     * A route with a limit of its own: counted by this gateway alone, in its own window. (The
     * plugin passes the route's merged limit options, timeWindow among them; its types say
     * route options.)
     */
    child(routeOptions: object): SharedRateLimitStore {
      const { timeWindow } = routeOptions as { timeWindow?: unknown };
      return new SharedRateLimitStore(undefined, false, typeof timeWindow === 'number' && timeWindow > 0 ? timeWindow : windowMs);
    }
  };
}
