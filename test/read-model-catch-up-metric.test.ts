// lgsp_read_model_catch_up_records_total drives the alert LgspReadModelRewound (increase() over
// 30 min). A catch-up happens when partitions are assigned, seconds after a service starts on a
// restored database, so the series must already exist at 0 before it: a series first scraped at
// N has no earlier sample, and Prometheus's increase() over it is 0 (the alert never fired).
import t from 'tap';
import { Registry } from 'prom-client';
import { catchUpMetrics } from '../services/platform/kafka-metrics.js';

t.test('the catch-up counter is 0 for its consumer from the start, then counts the records read again', async (t) => {
  const metrics = new Registry();
  const onCatchUp = catchUpMetrics(metrics)('ledger');
  t.match(await metrics.metrics(), /^lgsp_read_model_catch_up_records_total\{consumer="ledger"\} 0$/m, 'scraped at 0 before any catch-up');

  onCatchUp({ topic: 'lgsp.events', partition: 2, from: '7', committed: '10', records: 3, lostToRetention: 0 });
  t.match(await metrics.metrics(), /^lgsp_read_model_catch_up_records_total\{consumer="ledger"\} 3$/m);
});
