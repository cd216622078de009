// The pull-inbox gauges read PostgreSQL at each scrape. While it is away the gateway's /metrics
// must still be served (the rest of its metrics are what an operator reads during the outage),
// with the inbox gauges empty for that scrape, and one read serves both gauges of a scrape.
import t from 'tap';
import { Registry } from 'prom-client';
import { inboxBacklogMetrics } from '../services/document-exchange/inbox-metrics.js';
import type { InboxStore } from '../services/document-exchange/inbox-store.js';
import { createLogger } from '../services/platform/logger.js';

t.test('the inbox gauges follow the store, and an unreadable store leaves /metrics served', async (t) => {
  let answer: () => Promise<Awaited<ReturnType<InboxStore['backlog']>>> = async () => [
    { system: 'vp-ubnd-qlvb', items: 3, oldestDepositedAt: new Date(Date.now() - 90_000).toISOString() },
  ];
  let reads = 0;
  const store = { backlog: () => (reads++, answer()) } as unknown as InboxStore;
  const metrics = new Registry();
  inboxBacklogMetrics(metrics, store, createLogger('inbox-metrics-test', 'silent'));

  const first = await metrics.metrics();
  t.match(first, /^lgsp_inbox_waiting_items\{system="vp-ubnd-qlvb"\} 3$/m);
  t.match(first, /^lgsp_inbox_oldest_waiting_seconds\{system="vp-ubnd-qlvb"\} (89|9\d)$/m, 'about 90 s old');
  t.equal(reads, 1, 'one read for both gauges');

  answer = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
  };
  const during = await metrics.metrics();
  t.match(during, /# TYPE lgsp_inbox_waiting_items gauge/, 'still served');
  t.notMatch(during, /^lgsp_inbox_waiting_items\{/m, 'without a stale count');
  t.notMatch(during, /^lgsp_inbox_oldest_waiting_seconds\{/m, 'or a stale age');

  answer = async () => [];
  t.notMatch(await metrics.metrics(), /^lgsp_inbox_waiting_items\{/m, 'nothing waits: no series');
});
