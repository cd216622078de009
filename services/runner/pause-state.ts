// The operators' pause/resume of connectors, shared by every runner replica: the target state
// (paused or running) is a row in PostgreSQL, written by whichever runner the operator called,
// and every runner polls it, so a pause reaches all the consumers of a connector's group within
// a poll interval and survives restarts (as Kafka Connect keeps a connector's target state).
import type { Database } from '../platform/database.js';
import type { Logger } from '../platform/logger.js';

export const PAUSE_POLL_MS = 1000;

export class ConnectorPauseState {
  private readonly known = new Map<string, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private failing = false;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    /** Called when another runner (or this one) changed a connector's target state. */
    private readonly onChange: (connector: string, paused: boolean) => void,
  ) {}

  /** Whether operators left `connector` paused (false when never paused). */
  async isPaused(connector: string): Promise<boolean> {
    const { rows } = await this.db.query<{ paused: boolean }>('SELECT paused FROM runner_connector_pause WHERE connector = $1', [connector]);
    const paused = rows[0]?.paused ?? false;
    this.known.set(connector, paused);
    return paused;
  }

  /** Records the operator's decision; the caller applies it locally at once, the others on their next poll. */
  async set(connector: string, paused: boolean, by: string): Promise<void> {
    await this.db.query(
      `INSERT INTO runner_connector_pause (connector, paused, changed_by) VALUES ($1, $2, $3)
       ON CONFLICT (connector) DO UPDATE SET paused = excluded.paused, changed_by = excluded.changed_by, changed_at = now()`,
      [connector, paused, by],
    );
    this.known.set(connector, paused);
  }

  startPolling(intervalMs = PAUSE_POLL_MS): void {
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = null;
      });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.polling;
  }

  private async poll(): Promise<void> {
    let rows: { connector: string; paused: boolean }[];
    try {
      rows = (await this.db.query<{ connector: string; paused: boolean }>('SELECT connector, paused FROM runner_connector_pause')).rows;
    } catch (err) {
      // Keep the last known state while PostgreSQL is away; say so once, not every second.
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'cannot read connector pause state; keeping the last known');
      this.failing = true;
      return;
    }
    this.failing = false;
    for (const { connector, paused } of rows) {
      if (this.known.has(connector) && this.known.get(connector) === paused) continue;
      const changed = this.known.has(connector) || paused;
      this.known.set(connector, paused);
      if (changed) this.onChange(connector, paused);
    }
  }
}
