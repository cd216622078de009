// ctx.metrics for the runtime: prom-client instruments on the runner's registry, named
// lgsp_connector_<connector>_<name>. Instruments are created once per runner and reused across
// restarts of the connector; asking again for a name with a different kind or labels is a bug
// in the connector and throws.
import { Counter, Histogram, type Registry } from 'prom-client';
import { connectorMetricName, DEFAULT_SECONDS_BUCKETS, type ConnectorMetrics, type CounterMetric, type HistogramMetric, type MetricLabels } from '@lgsp/sdk/metrics';

interface Instrument {
  kind: 'counter' | 'histogram';
  labelNames: string;
  api: CounterMetric | HistogramMetric;
}

const byRegistry = new WeakMap<Registry, Map<string, Instrument>>();

export function prometheusConnectorMetrics(registry: Registry, connector: string): ConnectorMetrics {
  let instruments = byRegistry.get(registry);
  if (!instruments) byRegistry.set(registry, (instruments = new Map()));
  const known = instruments;
  const get = <T extends CounterMetric | HistogramMetric>(kind: Instrument['kind'], name: string, labelNames: readonly string[], create: (fullName: string) => T): T => {
    const fullName = connectorMetricName(connector, name);
    const existing = known.get(fullName);
    const labels = [...labelNames].sort().join(',');
    if (existing) {
      if (existing.kind !== kind || existing.labelNames !== labels) throw new Error(`metric ${fullName} is already a ${existing.kind} with labels [${existing.labelNames}]`);
      return existing.api as T;
    }
    const api = create(fullName);
    known.set(fullName, { kind, labelNames: labels, api });
    return api;
  };
  return {
    counter(name, help, labelNames = []) {
      return get('counter', name, labelNames, (fullName) => {
        const counter = new Counter({ name: fullName, help, labelNames: [...labelNames], registers: [registry] });
        return { inc: (labels?: MetricLabels, value = 1) => (labels ? counter.inc(labels, value) : counter.inc(value)) };
      });
    },
    histogram(name, help, options = {}) {
      const labelNames = options.labelNames ?? [];
      return get('histogram', name, labelNames, (fullName) => {
        const histogram = new Histogram({ name: fullName, help, labelNames: [...labelNames], buckets: [...(options.buckets ?? DEFAULT_SECONDS_BUCKETS)], registers: [registry] });
        return {
          observe: (value: number, labels?: MetricLabels) => (labels ? histogram.observe(labels, value) : histogram.observe(value)),
          startTimer: (labels?: MetricLabels) => histogram.startTimer(labels),
        };
      });
    },
  };
}
