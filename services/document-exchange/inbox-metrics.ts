// Pull inboxes that nobody collects. A system that polls (GET /v1/inbox) and stops — its poller
// crashed, its credentials expired, it was switched off for the holidays — leaves its messages
// waiting in the inbox: nothing is lost, nothing fails, no dead letter says so, and the senders'
// messages stay `deposited`. These gauges let an operator's alert see it (deploy/prometheus/
// alerts.yml: LgspInboxNotCollected), read from the gateways' shared inbox table at each scrape.
import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '../platform/logger.js';
import type { InboxStore } from './inbox-store.js';

export function inboxBacklogMetrics(metrics: MetricsRegistry, inbox: InboxStore, log: Logger): void {
  // One read serves both gauges of a scrape: prom-client starts every gauge's collect at once,
  // so the second finds the first's read in flight; the next scrape reads again.
  let reading: Promise<Awaited<ReturnType<InboxStore['backlog']>> | null> | null = null;
  const backlog = () =>
    (reading ??= inbox
      .backlog()
      .catch((err: unknown) => {
        // PostgreSQL away: the gauges are left empty for this scrape (the readiness check says
        // why); the rest of /metrics is still served.
        log.debug({ err: (err as Error)?.message }, 'inbox backlog not read');
        return null;
      })
      .finally(() => {
        reading = null;
      }));
  new Gauge({
    name: 'lgsp_inbox_waiting_items',
    help: 'Pull-inbox items deposited and not yet acknowledged, by receiving system',
    labelNames: ['system'],
    registers: [metrics],
    async collect() {
      const rows = await backlog();
      this.reset();
      for (const row of rows ?? []) this.set({ system: row.system }, row.items);
    },
  });
  new Gauge({
    name: 'lgsp_inbox_oldest_waiting_seconds',
    help: 'Age of the oldest pull-inbox item not yet acknowledged, by receiving system',
    labelNames: ['system'],
    registers: [metrics],
    async collect() {
      const rows = await backlog();
      this.reset();
      const now = Date.now();
      for (const row of rows ?? []) {
        const deposited = Date.parse(row.oldestDepositedAt);
        if (Number.isFinite(deposited)) this.set({ system: row.system }, Math.max(0, Math.round((now - deposited) / 1000)));
      }
    },
  });
}
