// Follows the message index the ledger writes (console_message_events, in the shared
// PostgreSQL) for what the console shows live: the flow monitor's per-second counts and the
// live view's changed messages. The console no longer reads lgsp.events itself, so a delivered
// message is read from Kafka by the runner, the audit and the ledger only.
//
// Rows are read by their seq, a little behind the last one seen: two ledger transactions may
// commit out of seq order, so the window is read again and rows already seen are skipped.
import type { BusEvent, BusEventName } from '../platform/bus-events.js';
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';

/** How far behind the highest seq seen each poll starts again. */
const REREAD_WINDOW = 1000;
const MAX_ROWS = 5000;

interface Row {
  seq: string;
  event_id: string;
  message_id: string;
  event: string;
  at: string;
  actor: string | null;
  type: string;
  from_member: string;
  from_system: string;
  to_member: string;
  to_service: string;
}

/** Whether the live view's figures are current: the index was read within `staleMs`. */
export interface IndexHealth {
  ok: boolean;
  /** When the index was last read successfully. */
  lastReadAt: string;
  detail?: string;
}

export interface IndexFollower {
  /** Rows followed since start. */
  readonly events: number;
  health(): IndexHealth;
  stop(): void;
}

/** A follower that polls every half second and has not read for this long is behind. */
const STALE_MS = 5_000;

export async function followIndex(opts: {
  db: Database;
  log: Logger;
  intervalMs?: number;
  staleMs?: number;
  now?: () => number;
  onEvents(events: BusEvent[]): void;
  onChanged(messageIds: Set<string>): void;
}): Promise<IndexFollower> {
  // Start at the head: what happened before this console started is history, not live traffic.
  let cursor = Number((await opts.db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM console_message_events')).rows[0].seq ?? 0);
  let seen = new Set<string>();
  let followed = 0;
  let polling = false;
  const now = opts.now ?? Date.now;
  let lastReadAt = now();
  let lastError: string | null = null;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const { rows } = await opts.db.query<Row>(
        `SELECT e.seq, e.event_id, e.message_id, e.event, e.at, e.actor, m.type, m.from_member, m.from_system, m.to_member, m.to_service
           FROM console_message_events e JOIN console_messages m ON m.id = e.message_id
          WHERE e.seq > $1 ORDER BY e.seq LIMIT ${MAX_ROWS}`,
        [Math.max(0, cursor - REREAD_WINDOW)],
      );
      lastReadAt = now();
      lastError = null;
      const fresh = rows.filter((r) => !seen.has(r.event_id));
      if (fresh.length === 0) return;
      for (const r of fresh) seen.add(r.event_id);
      cursor = Math.max(cursor, ...fresh.map((r) => Number(r.seq)));
      // Ids older than the window can no longer be read again: forget them.
      if (seen.size > 4 * REREAD_WINDOW) seen = new Set(rows.filter((r) => Number(r.seq) > cursor - REREAD_WINDOW).map((r) => r.event_id));
      followed += fresh.length;
      opts.onEvents(
        fresh.map((r) => ({
          id: r.event_id,
          event: r.event as BusEventName,
          at: r.at,
          actor: r.actor ?? '',
          messageId: r.message_id,
          type: r.type,
          from: { member: r.from_member, system: r.from_system },
          to: { member: r.to_member, service: r.to_service },
        })),
      );
      opts.onChanged(new Set(fresh.map((r) => r.message_id)));
    } catch (err) {
      lastError = (err as Error).message;
      opts.log.warn({ err: (err as Error).message }, 'could not follow the message index; trying again');
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), opts.intervalMs ?? 500);
  timer.unref();
  return {
    get events() {
      return followed;
    },
    health: () => {
      const staleMs = opts.staleMs ?? STALE_MS;
      const age = now() - lastReadAt;
      const ok = lastError === null && age <= staleMs;
      return {
        ok,
        lastReadAt: new Date(lastReadAt).toISOString(),
        ...(ok ? {} : { detail: lastError ?? `no answer from PostgreSQL for ${Math.round(age / 1000)} s` }),
      };
    },
    stop: () => clearInterval(timer),
  };
}
