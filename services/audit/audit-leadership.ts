// Exactly one audit instance writes the chain at a time: the one holding a PostgreSQL session
// advisory lock on a connection of its own. Standbys try for the lock every second; when the
// leader dies its connection closes, PostgreSQL releases the lock, and a standby takes over.
// The leader pings its connection at the same pace and steps down at once if it fails (the
// lock may already be someone else's). Appends also take a transaction lock
// (AUDIT_CHAIN_LOCK in audit-store.ts), so the chain stays linear even in the moment two
// instances both believe they lead.
import pg from 'pg';
import { databaseClientConfig } from '../platform/database-connection.js';
import type { Logger } from '../platform/logger.js';

/** Session advisory lock held by the audit leader. */
export const AUDIT_LEADER_LOCK = 0x4c475350_a0d0;

export interface LeadershipHandlers {
  /** Now the leader: start writing. If it throws, leadership is given up and tried again later. */
  onElected(): Promise<void>;
  /** No longer (or never fully) the leader: stop writing. */
  onDeposed(): Promise<void>;
}

export class AuditLeadership {
  private stopped = false;
  private leading = false;
  private readonly wake = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly log: Logger,
    private readonly handlers: LeadershipHandlers,
    private readonly intervalMs = 1000,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Steps down (releasing the lock with the connection) and stops trying. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.wake.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      this.wake.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const client = new pg.Client(
        databaseClientConfig(this.databaseUrl, { application_name: 'lgsp-audit-leader', connectionTimeoutMillis: 3000, keepAlive: true }),
      );
      // A broken connection surfaces on the next ping; without a listener it would crash us.
      client.on('error', () => undefined);
      try {
        await client.connect();
        while (!this.stopped) {
          if (!this.leading) {
            const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [AUDIT_LEADER_LOCK]);
            if (rows[0].ok) {
              this.leading = true;
              this.log.info('audit leader: this instance writes the chain');
              await this.handlers.onElected();
            }
          } else {
            await client.query('SELECT 1');
          }
          await this.sleep(this.intervalMs);
        }
      } catch (err) {
        if (!this.stopped) this.log.warn({ err: (err as Error).message, leader: this.leading }, 'audit leadership connection failed; stepping down and trying again');
      }
      await this.stepDown();
      await client.end().catch(() => undefined);
      if (!this.stopped) await this.sleep(this.intervalMs);
    }
  }

  private async stepDown(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    try {
      await this.handlers.onDeposed();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'audit leader: stepping down failed');
    }
    this.log.info('audit leader: stepped down');
  }
}
