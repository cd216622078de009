// Connector metrics are named lgsp_connector_<connector>_<name>, the connector's dashes written
// as underscores: connector `land` with `registry_lookups_total` and connector `land-registry`
// with `lookups_total` both make lgsp_connector_land_registry_lookups_total. On one runner the
// second connector silently counted into the first one's instrument (same kind and labels) or
// was told the metric "is already a counter", naming neither connector. It is now refused at
// registration, naming both connectors and their metric names.
import t from 'tap';
import { Registry } from 'prom-client';
import { prometheusConnectorMetrics } from '../services/runner/connector-metrics.js';

t.test('two connectors whose metrics would share a Prometheus name are refused, naming both', async (t) => {
  const registry = new Registry();
  const land = prometheusConnectorMetrics(registry, 'land');
  land.counter('registry_lookups_total', 'Lookups', ['found']).inc({ found: 'yes' });
  const landRegistry = prometheusConnectorMetrics(registry, 'land-registry');
  for (const register of [
    () => landRegistry.counter('lookups_total', 'Lookups', ['found']),
    () => landRegistry.histogram('lookups_total', 'Lookups'),
  ]) {
    t.throws(register, {
      message: /connector "land-registry".*"lookups_total".*lgsp_connector_land_registry_lookups_total.*connector "land".*"registry_lookups_total"/,
    });
  }
  t.match(await registry.metrics(), /lgsp_connector_land_registry_lookups_total\{found="yes"\} 1\n/, 'the first connector keeps its counter, counted once');

  // Other names of the second connector, and the first one's own instrument asked again, still work.
  landRegistry.counter('parcels_total', 'Parcels').inc();
  t.ok(prometheusConnectorMetrics(registry, 'land').counter('registry_lookups_total', 'Lookups', ['found']), 'a restarted connector gets its own instrument back');
  // The same name under connector names that differ only by dash and underscore.
  prometheusConnectorMetrics(registry, 'tax-office').counter('calls_total', 'Calls');
  t.throws(() => prometheusConnectorMetrics(registry, 'tax_office').counter('calls_total', 'Calls'), /connector "tax_office".*connector "tax-office"/);
});
