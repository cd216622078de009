// ctx.metrics for the runtime: prom-client instruments on the runner's registry, named
// lgsp_connector_<connector>_<name>. Instruments are created once per runner and reused across
// restarts of the connector; asking again for a name with a different kind or labels is a bug
// in the connector and throws. The connector's dashes become underscores, so two connectors can
// arrive at one name (`land` + `registry_lookups_total`, `land-registry` + `lookups_total`): the
// second to register it is refused, naming both, instead of counting into the first one's series.
import { Counter, Histogram, type Registry } from 'prom-client';
import { connectorMetricName, DEFAULT_SECONDS_BUCKETS, type ConnectorMetrics, type CounterMetric, type HistogramMetric, type MetricLabels } from '@lgsp/sdk/metrics';

interface Instrument {
  /** Who registered it: the connector and the name it asked for. */
  connector: string;
  name: string;
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
      if (existing.connector !== connector) {
        throw new Error(
          `connector "${connector}" cannot register metric "${name}": its Prometheus name ${fullName} is already connector "${existing.connector}"'s metric "${existing.name}" ` +
            '(connector names become part of metric names, dashes as underscores); rename one of the two metrics',
        );
      }
      if (existing.kind !== kind || existing.labelNames !== labels) throw new Error(`metric ${fullName} is already a ${existing.kind} with labels [${existing.labelNames}]`);
      return existing.api as T;
    }
    const api = create(fullName);
    known.set(fullName, { connector, name, kind, labelNames: labels, api });
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
