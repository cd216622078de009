// Totals kept by a component are exposed as Prometheus counters (TYPE counter, so rate() works),
// with the current value at each scrape.
import t from 'tap';
import { Registry } from 'prom-client';
import { statsCounter } from '../services/platform/stats-counter.js';

t.test('a stats counter exposes the running totals as a counter', async (t) => {
  const registry = new Registry();
  const stats = { records: 0, byKind: new Map<string, number>([['event', 2]]) };
  statsCounter({ name: 'demo_records_total', help: 'Records', registers: [registry], read: () => stats.records });
  statsCounter({ name: 'demo_consumed_total', help: 'By kind', labelNames: ['kind'], registers: [registry], read: () => [...stats.byKind].map(([kind, n]) => [{ kind }, n]) });

  let text = await registry.metrics();
  t.match(text, /# TYPE demo_records_total counter\ndemo_records_total 0/);
  t.match(text, /# TYPE demo_consumed_total counter\ndemo_consumed_total\{kind="event"\} 2/);

  stats.records = 41;
  stats.records++;
  stats.byKind.set('dead_letter', 1);
  text = await registry.metrics();
  t.match(text, /demo_records_total 42\n/, 'the value at scrape time, not an accumulation of scrapes');
  t.match(text, /demo_consumed_total\{kind="event"\} 2\ndemo_consumed_total\{kind="dead_letter"\} 1/);
  text = await registry.metrics();
  t.match(text, /demo_records_total 42\n/, 'a second scrape reports the same total');
});
