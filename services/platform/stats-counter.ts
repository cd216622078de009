// A Prometheus counter read from a running total a component already keeps (producer stats,
// worker stats), so the hot path does no extra work. Exposed with TYPE counter, not gauge:
// rate() and increase() need to know the value only goes up (a restart resets it to zero,
// which Prometheus handles for counters).
import { Counter, type Registry as MetricsRegistry } from 'prom-client';

type Labels = Record<string, string>;

export function statsCounter(opts: {
  name: string;
  help: string;
  labelNames?: string[];
  registers: MetricsRegistry[];
  /** The current totals, by label set (a number when the counter has no labels). */
  read(): number | Iterable<[Labels, number]>;
}): Counter {
  return new Counter({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames ?? [],
    registers: opts.registers,
    collect() {
      // Scrape-time copy of the totals: reset, then add each label set's total.
      const totals = opts.read();
      this.reset();
      if (typeof totals === 'number') this.inc(totals);
      else for (const [labels, value] of totals) this.inc(labels, value);
    },
  });
}
