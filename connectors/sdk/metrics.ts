// Metrics a connector publishes about its own work (reports forwarded, time the destination
// took, ...). The runtime implements this with prom-client on the runner's /metrics, under
// lgsp_connector_<connector>_<name>; the test harness implements it in memory. Declaring the
// same metric twice returns the same instrument, so handle() may ask for it on every message.

export type MetricLabels = Record<string, string | number>;

export interface CounterMetric {
  inc(labels?: MetricLabels, value?: number): void;
}

export interface HistogramMetric {
  observe(value: number, labels?: MetricLabels): void;
  /** Starts a timer; calling the returned function observes the elapsed seconds and returns them. */
  startTimer(labels?: MetricLabels): () => number;
}

export interface ConnectorMetrics {
  /** A monotonically increasing count; by convention the name ends in _total. */
  counter(name: string, help: string, labelNames?: readonly string[]): CounterMetric;
  /** A distribution (e.g. seconds); default buckets suit HTTP calls. */
  histogram(name: string, help: string, options?: { labelNames?: readonly string[]; buckets?: readonly number[] }): HistogramMetric;
}

export const DEFAULT_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

const METRIC_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** The Prometheus name of a connector's metric; throws on a name Prometheus would refuse. */
export function connectorMetricName(connector: string, name: string): string {
  if (!METRIC_NAME.test(name)) throw new Error(`metric name "${name}" must match ${METRIC_NAME} (lower case, digits, underscores)`);
  return `lgsp_connector_${connector.replace(/-/g, '_')}_${name}`;
}

/** Metrics that go nowhere: for code paths that run a connector without a metrics registry. */
export const DISCARDING_METRICS: ConnectorMetrics = {
  counter: () => ({ inc: () => undefined }),
  histogram: () => ({ observe: () => undefined, startTimer: () => () => 0 }),
};
